"""Report sections for neurons and light: which neurons follow which emotion, what a stimulation
evokes.

Read from the output folder (each part optional): ``neurons.parquet``,
``neurons_psth.parquet``, ``neurons_examples.parquet``, ``neurons_decoding.parquet``,
``opto.parquet`` and ``opto_locked.parquet`` (written by
:mod:`mouseface.pipeline.neural_steps`).

- Neurons: per imaging session a heatmap of every neuron's stimulus-locked dF/F, one panel per
  emotion, neurons sorted by preferred emotion (then selectivity); example neurons with the face
  strength they follow drawn over them; the counts of tuned neurons and the population decoder.
- Optogenetics: per session and target the baseline-subtracted strength of every prototype
  around laser onsets (sham epochs as their own target), and the table of effects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mouseface.report import figures as fg
from mouseface.report._sections import Section, img, section, table, text

__all__ = ["neurons_section", "opto_section"]


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def _heatmap(psth: pd.DataFrame, order: pd.DataFrame, colours: dict[str, str]):
    emotions = list(dict.fromkeys(psth["emotion"]))
    lags = np.sort(psth["lag"].unique())
    keys = list(zip(order["plane"], order["neuron"], strict=True))
    fig = fg.new_figure(2.2 * len(emotions) + 0.8, 0.5 + 0.05 * max(len(keys), 20))
    axes = fig.subplots(1, len(emotions), squeeze=False, sharey=True)[0]
    cube = {}
    for e in emotions:
        sub = psth[psth["emotion"] == e].pivot_table(
            index=["plane", "neuron"], columns="lag", values="mean"
        )
        cube[e] = sub.reindex(index=pd.MultiIndex.from_tuples(keys), columns=lags).to_numpy()
    lim = np.nanpercentile(np.abs(np.concatenate([c.ravel() for c in cube.values()])), 99) or 1.0
    im = None
    for ax, e in zip(axes, emotions, strict=True):
        im = ax.imshow(
            cube[e],
            aspect="auto",
            cmap="RdBu_r",
            vmin=-lim,
            vmax=lim,
            extent=(lags[0], lags[-1], len(keys), 0),
            interpolation="nearest",
        )
        ax.axvline(0, color="k", lw=0.6)
        ax.set_title(e, color=colours.get(e, "k"), fontsize=9)
        ax.set_xlabel("s from onset", fontsize=8)
    axes[0].set_ylabel("neuron (sorted by preferred emotion)", fontsize=8)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="dF/F (baseline-subtracted)")
    return fig


def _examples(ex: pd.DataFrame, colours: dict[str, str]):
    groups = list(ex.groupby(["plane", "neuron", "emotion"], sort=False))
    fig = fg.new_figure(7.5, 1.6 * len(groups) + 0.4)
    axes = fig.subplots(len(groups), 1, squeeze=False)[:, 0]
    for ax, ((plane, neuron, emotion), g) in zip(axes, groups, strict=True):
        t = g["time"].to_numpy()
        ax.plot(t, g["dff"].to_numpy(), color="0.25", lw=0.7, label="dF/F")
        ax2 = ax.twinx()
        ax2.plot(t, g["strength"].to_numpy(), color=colours.get(emotion, "C1"), lw=0.8)
        ax2.set_ylabel(f"strength {emotion}", color=colours.get(emotion, "C1"), fontsize=8)
        ax.set_ylabel("dF/F", fontsize=8)
        ax.set_title(
            f"plane {plane}, neuron {neuron}: r = {g['r'].iloc[0]:.2f} with {emotion}", fontsize=9
        )
    axes[-1].set_xlabel("time (s, video clock)")
    return fig


def neurons_section(out_dir: Path, colours: dict[str, str]) -> Section | None:
    """The neurons section, or None when the run had no neural recording."""
    out_dir = Path(out_dir)
    table = _read(out_dir / "neurons.parquet")
    if table is None or table.empty:
        return None
    from mouseface.neural.neurons import heatmap_order

    psth = _read(out_dir / "neurons_psth.parquet")
    examples = _read(out_dir / "neurons_examples.parquet")
    decoding = _read(out_dir / "neurons_decoding.parquet")
    sec = section("neurons", "Neurons and expressions")
    tuned = table.groupby(["session", "emotion"])["tuned"].sum().unstack(fill_value=0)
    n = table.groupby("session")["neuron"].nunique()
    sec["blocks"].append(
        text(
            "A neuron is tuned to an emotion when its dF/F correlates with that emotion's strength "
            "trace beyond circular-shift shuffles (Benjamini-Hochberg q <= 0.05), the emotion is "
            "its preferred one and its selectivity is >= 0.5. Tuned neurons per session: "
            + "; ".join(
                f"{s}: {int(tuned.loc[s].sum())} of {int(n[s])} "
                f"({', '.join(f'{e} {int(v)}' for e, v in tuned.loc[s].items() if v)})"
                for s in tuned.index
            )
        )
    )
    if decoding is not None and not decoding.empty:
        for _, r in decoding.iterrows():
            if np.isfinite(r.get("neural_balanced_accuracy", np.nan)):
                sec["blocks"].append(
                    text(
                        f"{r['session']}: the emotion of a trial decoded from the neurons "
                        f"({r['neural_cv']}): balanced accuracy "
                        f"{r['neural_balanced_accuracy']:.2f} (chance "
                        f"{r['neural_chance']:.2f}, p = {r['neural_p']:.3g}); agreement with "
                        f"the face decoder on {int(r['agreement_n_trials'])} trials: "
                        f"{r['agreement_fraction']:.2f} (Cohen's kappa "
                        f"{r['agreement_kappa']:.2f})."
                    )
                )
    for session, sub in table.groupby("session", sort=False):
        if psth is not None:
            order = heatmap_order(sub)
            fig = _heatmap(psth[psth["session"] == session], order, colours)
            sec["blocks"].append(
                img(
                    fig,
                    f"{session}: stimulus-locked dF/F of every neuron per emotion, sorted by "
                    "preferred emotion.",
                    f"heatmap of neurons of {session}",
                )
            )
        if examples is not None and (examples["session"] == session).any():
            fig = _examples(examples[examples["session"] == session], colours)
            sec["blocks"].append(
                img(
                    fig,
                    f"{session}: the most correlated tuned neuron of each emotion (gray, dF/F) "
                    "with the face's strength of that emotion over it.",
                    f"example neurons of {session}",
                )
            )
    return sec


def opto_section(out_dir: Path, colours: dict[str, str]) -> Section | None:
    """The optogenetics section, or None when the run had no laser table."""
    out_dir = Path(out_dir)
    effects = _read(out_dir / "opto.parquet")
    if effects is None or effects.empty:
        return None
    locked = _read(out_dir / "opto_locked.parquet")
    sec = section("opto", "Optogenetic stimulation and the face")
    main = effects[effects["condition"] == "laser_vs_baseline"]
    sec["blocks"].append(
        text(
            "Evoked emotion per target (the prototype whose strength rises most in laser epochs "
            "over the matched baseline before each epoch): "
            + "; ".join(
                f"{r['session']} {r['target']}: {r['evoked_emotion']} "
                f"(+{r['effect']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}], p = {r['p']:.3g})"
                for _, r in main.iterrows()
            )
        )
    )
    if locked is not None and not locked.empty:
        for session, sub in locked.groupby("session", sort=False):
            targets = list(dict.fromkeys(sub["target"]))
            fig = fg.new_figure(3.0 * len(targets) + 0.5, 2.6)
            axes = fig.subplots(1, len(targets), squeeze=False, sharey=True)[0]
            for ax, tgt in zip(axes, targets, strict=True):
                for emo, g in sub[sub["target"] == tgt].groupby("emotion", sort=False):
                    c = colours.get(emo)
                    ax.plot(g["lag"], g["mean"], color=c, lw=1.0, label=emo)
                    ax.fill_between(g["lag"], g["low"], g["high"], color=c, alpha=0.15, lw=0)
                ax.axvline(0, color="k", lw=0.6)
                ax.set_title(str(tgt), fontsize=9)
                ax.set_xlabel("s from laser onset", fontsize=8)
            axes[0].set_ylabel("strength (baseline-subtracted)", fontsize=8)
            axes[-1].legend(fontsize=7, frameon=False)
            sec["blocks"].append(
                img(
                    fig,
                    f"{session}: strength of every prototype around laser onsets per target "
                    "(mean and bootstrap interval over epochs).",
                    f"laser-locked strength of {session}",
                )
            )
    cols = ["session", "target", "condition", "evoked_emotion", "effect", "ci_low", "ci_high", "p"]
    sec["blocks"].append(table(effects[cols].round(4), "opto.parquet", index=False))
    return sec

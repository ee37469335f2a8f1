"""Prototypes analysis: emotion prototypes per session, animal and pooled; are they alike across
animals?

Frames with a quality flag are excluded (:mod:`mouseface.features.quality`: brief transients
such as blinks, occlusion by a paw or grooming, large motion, dark or saturated images); the
neutral prototype of each session is the mean HOG of its remaining baseline frames and each
emotion prototype the mean HOG of the ``prototype_frames`` stimulus-window frames least
correlated with it (:mod:`mouseface.expression.prototype_sets`).

Across animals: Pearson r between the per-animal prototypes (rows ``animal:emotion``) in two
representations, ``raw`` HOG (the paper's prototypes, where each animal's face dominates) and
``difference`` (HOG minus the neutral prototype: what the emotion changes), average-linkage
clustering, and whether prototypes group by emotion rather than by animal
(:func:`mouseface.expression.embedding.emotion_animal_contrast`: within-emotion minus
within-animal mean r with a bootstrap interval and a permutation p-value; adjusted Rand index of
the tree cut vs emotion and vs animal). Frames: PCA then t-SNE of ``HOG - neutral`` of baseline
frames and changed stimulus-window frames, coloured by emotion.

Options (``analyses: {prototypes: {...}}``): ``prototype_frames`` (default: the config's),
``exclude_flagged`` (true), ``valid_only`` (true), ``n_permutations`` (1000), ``n_boot``
(1000), ``ci`` (0.95), ``embed_frames`` (40 per animal and class; 0 skips the embedding),
``perplexity`` (30), ``change_threshold`` (5.0), ``seed`` (0).
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from pydantic import Field
from threadpoolctl import threadpool_limits

from mouseface.analyses._options import AnalysisOptions, check_options, ci_field, n_boot_field
from mouseface.analyses.context import Context, Result
from mouseface.errors import InputError
from mouseface.expression.embedding import (
    cluster_order,
    cut_agreement,
    embed_frames,
    emotion_animal_contrast,
    separation,
    similarity,
)
from mouseface.expression.frameset import (
    NEUTRAL,
    FrameSet,
    build_frame_set,
    cap_per_group,
    inputs_from_context,
)
from mouseface.expression.prototype_sets import build_prototypes, prototype_table
from mouseface.report.figures import emotion_colours, new_figure
from mouseface.report.fragments import figure_html, fmt, fmt_ci, fmt_p, html_table, section_html
from mouseface.report.prototype_figures import cross_animal_figure

NAME = "prototypes"
ORDER = 10


class Options(AnalysisOptions):
    """Options of the prototypes analysis (config ``analyses: {prototypes: {...}}``)."""

    prototype_frames: int | None = Field(None, ge=1)
    exclude_flagged: bool = True
    valid_only: bool = True
    n_permutations: int = Field(1000, ge=1)
    n_boot: int = n_boot_field(1000)
    ci: float = ci_field()
    embed_frames: int = Field(40, ge=0)
    perplexity: float = 30.0
    change_threshold: float = 5.0
    seed: int = 0


def _options(ctx: Context) -> dict:
    opt = check_options(NAME, ctx.options, Options)
    if opt["prototype_frames"] is None:
        opt["prototype_frames"] = int(ctx.config.prototype_frames)
    return opt


def _similarity_rows(protos, rep: str):
    per = [p for p in protos if p.level == "animal" and (rep == "raw" or p.emotion != NEUTRAL)]
    animals = np.array([p.animal for p in per], dtype=str)
    emotions = np.array([p.emotion for p in per], dtype=str)
    vecs = np.stack([getattr(p, rep) for p in per]) if per else np.zeros((0, 0))
    return animals, emotions, vecs


def _nearest_same(r: np.ndarray, animals: np.ndarray, emotions: np.ndarray) -> float:
    hits = []
    for i in range(len(r)):
        other = animals != animals[i]
        if other.any():
            j = np.flatnonzero(other)[np.argmax(r[i, other])]
            hits.append(emotions[j] == emotions[i])
    return float(np.mean(hits)) if hits else float("nan")


def _cross_animal(protos, opt: dict, notes: list[str]):
    sim_rows, clus_rows, figs = [], [], {}
    for rep in ("difference", "raw"):
        animals, emotions, vecs = _similarity_rows(protos, rep)
        if len(vecs) < 3:
            notes.append(f"{rep}: fewer than 3 per-animal prototypes; no clustering")
            continue
        r = similarity(vecs)
        Z, order = cluster_order(r)
        pos = np.empty(len(order), dtype=int)
        pos[order] = np.arange(len(order))
        for i in range(len(r)):
            for j in range(len(r)):
                sim_rows.append(
                    {
                        "representation": rep,
                        "row_animal": animals[i],
                        "row_emotion": emotions[i],
                        "col_animal": animals[j],
                        "col_emotion": emotions[j],
                        "r": float(r[i, j]),
                        "row_order": int(pos[i]),
                        "col_order": int(pos[j]),
                    }
                )
        figs[rep] = cross_animal_figure(
            list(zip(animals, emotions, strict=True)), r, colours=emotion_colours(emotions)
        )
        base = {"representation": rep, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
        try:
            c = emotion_animal_contrast(
                r,
                animals,
                emotions,
                n_permutations=int(opt["n_permutations"]),
                n_boot=int(opt["n_boot"]),
                ci=float(opt["ci"]),
                seed=int(opt["seed"]),
            )
        except InputError as exc:
            notes.append(f"{rep}: {exc}")
        else:
            for m in ("within_emotion", "within_animal", "difference"):
                clus_rows.append(
                    {
                        **base,
                        "metric": m,
                        "value": c[m],
                        "ci_low": c[m + "_low"],
                        "ci_high": c[m + "_high"],
                        "p_value": c["p_value"] if m == "difference" else np.nan,
                    }
                )
        k = len(np.unique(emotions))
        clus_rows += [
            {**base, "metric": "ari_emotion", "value": cut_agreement(Z, emotions, k=k)},
            {**base, "metric": "ari_animal", "value": cut_agreement(Z, animals, k=k)},
            {
                **base,
                "metric": "nearest_other_animal_same_emotion",
                "value": _nearest_same(r, animals, emotions),
            },
        ]
    return pd.DataFrame(sim_rows), pd.DataFrame(clus_rows), figs


def _embedding(fs: FrameSet, opt: dict, notes: list[str]):
    r = fs.rows
    use = (r["window"] == "baseline") | (r["change_z"] > float(opt["change_threshold"]))
    idx = np.flatnonzero(use.to_numpy())
    keys = (r["animal"].astype(str) + "|" + r["label"].astype(str)).to_numpy()[idx]
    idx = idx[cap_per_group(keys, max_per_group=int(opt["embed_frames"]), seed=int(opt["seed"]))]
    if len(idx) < 10:
        notes.append(f"embedding skipped: only {len(idx)} frames")
        return pd.DataFrame(), {}
    pcs, xy = embed_frames(fs.X[idx], perplexity=float(opt["perplexity"]), seed=int(opt["seed"]))
    sub = r.iloc[idx]
    emb = sub[["session", "animal", "frame", "window", "label", "change_z"]].reset_index(drop=True)
    emb["pc1"], emb["pc2"], emb["x"], emb["y"] = pcs[:, 0], pcs[:, min(1, pcs.shape[1] - 1)], *xy.T
    sep = {
        "silhouette_emotion": separation(pcs, sub["label"].astype(str)),
        "silhouette_animal": separation(pcs, sub["animal"].astype(str)),
    }
    return emb, sep


def _embedding_figure(emb: pd.DataFrame):
    fig = new_figure(6.8, 5.0)
    ax = fig.subplots()
    labels = sorted(emb["label"].unique(), key=lambda s: (s != NEUTRAL, s))
    colours = emotion_colours(labels)
    markers = "osD^vP*X<>"
    animals = sorted(emb["animal"].unique())
    for lab in labels:
        for k, a in enumerate(animals):
            g = emb[(emb["label"] == lab) & (emb["animal"] == a)]
            ax.scatter(
                g["x"],
                g["y"],
                s=9,
                color=colours[lab],
                marker=markers[k % len(markers)],
                alpha=0.7,
                lw=0,
                label=lab if k == 0 else None,
            )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("t-SNE of frames (HOG - neutral); marker = animal", fontsize=9)
    ax.legend(fontsize=7, frameon=False, markerscale=2, loc="best")
    return fig


def _summary(clus: pd.DataFrame, sep: dict, quality: pd.DataFrame) -> dict[str, float]:
    """Headline numbers: the emotion-vs-animal contrast, tree-cut agreement, separation."""
    out: dict[str, float] = {}
    for _, r in clus.iterrows():
        k = f"{r['representation']}.{r['metric']}"
        if r["metric"] == "difference":
            out |= {
                k: r["value"],
                k + "_low": r["ci_low"],
                k + "_high": r["ci_high"],
                f"{r['representation']}.p_value": r["p_value"],
            }
        elif r["representation"] == "difference":
            out[k] = r["value"]
    out |= sep
    q = quality.groupby("flag")[["n_flagged", "n_frames"]].sum()
    if "flagged" in q.index and q.loc["flagged", "n_frames"]:
        out["flagged_fraction"] = q.loc["flagged", "n_flagged"] / q.loc["flagged", "n_frames"]
    return {k: float(v) for k, v in out.items()}


def run(ctx: Context) -> Result:
    """Prototypes, cross-animal similarity and clustering, frame embedding."""
    opt = _options(ctx)
    notes: list[str] = []
    with threadpool_limits(limits=1):
        fs = build_frame_set(
            inputs_from_context(ctx),
            windows=ctx.windows,
            exclude_flagged=bool(opt["exclude_flagged"]),
            valid_only=bool(opt["valid_only"]),
        )
        protos = build_prototypes(fs, n_frames=int(opt["prototype_frames"]))
        sim, clus, figs = _cross_animal(protos, opt, notes)
        emb, sep = _embedding(fs, opt, notes) if int(opt["embed_frames"]) else (pd.DataFrame(), {})
    index = pd.DataFrame(
        [
            {
                "level": p.level,
                "session": p.session,
                "animal": p.animal,
                "emotion": p.emotion,
                "n_frames": p.n_frames,
            }
            for p in protos
        ]
    )
    tables = {"vectors": prototype_table(protos), "index": index, "quality": fs.quality}
    if not sim.empty:
        tables["similarity"], tables["clustering"] = sim, clus
    if not emb.empty:
        tables["embedding"] = emb
    summary = _summary(clus, sep, fs.quality)
    html_ = _section(tables, figs, emb, sep, opt, notes)
    return Result(tables=tables, summary=summary, section_html=html_, notes=notes)


def _section(tables, figs, emb, sep, opt, notes) -> str:  # noqa: ANN001
    ci = f"{round(100 * float(opt['ci']))}%"
    q = tables["quality"].groupby("flag")[["n_frames", "n_flagged"]].sum()
    q["fraction"] = q["n_flagged"] / q["n_frames"]
    parts = [
        f"<p>Prototypes from the {opt['prototype_frames']} stimulus-window frames least like "
        "the session's neutral face, per session, per animal and pooled (mean of the animals), "
        "with quality-flagged frames excluded"
        + (" (exclusion on)." if opt["exclude_flagged"] else " (exclusion off).")
        + " Flags: brief transients such as blinks, occlusion (paw, grooming), large motion, "
        "dark or saturated images. All vectors are in prototypes_vectors.parquet.</p>",
        html_table(q.reset_index()),
    ]
    clus = tables.get("clustering")
    if clus is not None and not clus.empty:
        items = []
        for rep, g in clus.groupby("representation", sort=False):
            m = g.set_index("metric")
            if "difference" in m.index:
                d, we, wa = m.loc["difference"], m.loc["within_emotion"], m.loc["within_animal"]
                txt = (
                    "same emotion, other animal: mean r "
                    + fmt_ci(we["value"], we["ci_low"], we["ci_high"])
                    + "; same animal, other emotion: "
                    + fmt_ci(wa["value"], wa["ci_low"], wa["ci_high"])
                    + "; difference "
                    + fmt_ci(d["value"], d["ci_low"], d["ci_high"])
                    + f" ({fmt_p(d['p_value'])}, emotion labels permuted within animal)"
                )
            else:
                txt = "not enough animals for the contrast"
            txt += (
                f"; tree cut ARI with emotion {fmt(m.loc['ari_emotion', 'value'])}, with "
                f"animal {fmt(m.loc['ari_animal', 'value'])}; nearest prototype of another "
                f"animal has the same emotion for "
                f"{fmt(100 * m.loc['nearest_other_animal_same_emotion', 'value'])}%"
            )
            items.append(f"<li><b>{html.escape(str(rep))}</b>: {txt}</li>")
        parts.append(
            f"<p>Do per-animal prototypes group by emotion rather than by animal? ({ci} "
            "bootstrap intervals over animals)</p><ul>" + "".join(items) + "</ul>"
        )
    for rep, fig in figs.items():
        parts.append(
            figure_html(
                fig,
                alt=f"cross-animal similarity ({rep})",
                caption=f"Per-animal prototypes ({rep}), rows animal:emotion, Pearson r, "
                "ordered by average-linkage clustering on 1 - r.",
            )
        )
    if not emb.empty:
        parts.append(
            figure_html(
                _embedding_figure(emb),
                alt="t-SNE of frames",
                caption="Baseline frames and stimulus-window frames whose face changed, PCA "
                "(30) then t-SNE. Silhouette in PCA space by emotion "
                f"{fmt(sep.get('silhouette_emotion', np.nan))}, by animal "
                f"{fmt(sep.get('silhouette_animal', np.nan))}.",
            )
        )
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    return section_html("prototypes-analysis", "Prototypes across animals", parts)

"""Maps of the 15-minute service circle, drawn with matplotlib alone: no online map tiles.

Many government offices cannot reach a tile server, so the map is the data itself on a km grid:
communities as dots sized by their elders and marked covered (filled) or not (hollow), centres and
stations, and each facility's 15-minute catchment as a circle of the straight-line reach. Filled vs
hollow and marker shapes keep the map readable when printed in greyscale. Chinese labels render with
the project's CJK font (agingsim.report.fonts).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from agingsim import __version__
from agingsim.geo.coverage import nearest_facility, open_facilities
from agingsim.geo.geography import Geography
from agingsim.report.fonts import use_cjk_font
from agingsim.report.labels import Lang, label

COVERED = "#1b5e7a"  # dark blue-teal: dark in greyscale
UNCOVERED = "#e07b39"  # orange: light in greyscale, and drawn hollow
MARKERS = {"street_centre": ("s", 42.0), "community_station": ("^", 26.0)}


def map_footer(g: Geography) -> str:
    """The map's footer: the geography and the walk behind the circles, and the version."""
    w = g.walk
    return (
        f"{g.name_en or g.name} · {w.minutes:g} min × {w.speed_kmh:g} km/h ÷ detour {w.detour_factor:g} "
        f"= {w.radius_km * 1000:.0f} m straight line · agingsim {__version__}"
    )


def core_extent(geography: Geography, half_width_km: float = 8.0) -> tuple[float, float, float, float]:
    """A square around the elder-weighted median of the communities: the dense core worth zooming on."""
    c = geography.communities
    w = c["elders"].to_numpy(float)
    order_x, order_y = np.argsort(c["x_km"].to_numpy()), np.argsort(c["y_km"].to_numpy())
    cx = float(c["x_km"].to_numpy()[order_x][np.searchsorted(np.cumsum(w[order_x]), w.sum() / 2)])
    cy = float(c["y_km"].to_numpy()[order_y][np.searchsorted(np.cumsum(w[order_y]), w.sum() / 2)])
    return cx - half_width_km, cx + half_width_km, cy - half_width_km, cy + half_width_km


def coverage_map(
    geography: Geography,
    year: int | None,
    lang: Lang = "zh",
    extent: tuple[float, float, float, float] | None = None,
    new_sites: pd.DataFrame | None = None,
    footer: str = "",
) -> Figure:
    """Communities (dots sized by elders, filled if within the walk of an open centre or station),
    facilities open in ``year`` and their catchments; ``new_sites`` (a siting plan) drawn on top and
    counted as open."""
    use_cjk_font()
    g = geography
    facilities = open_facilities(g, year)
    if new_sites is not None and len(new_sites):
        facilities = pd.concat([facilities, new_sites.assign(opens=np.nan)], ignore_index=True)
        g = replace(g, facilities=facilities)
    near = nearest_facility(g, None)
    c = g.communities
    within = near["within"].to_numpy(bool)
    x, y = c["x_km"].to_numpy(float), c["y_km"].to_numpy(float)
    elders = c["elders"].to_numpy(float)
    if extent is not None:
        x0, x1, y0, y1 = extent
        show = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    else:
        show = np.ones(len(c), bool)
    size = 4.0 + 60.0 * elders / max(float(elders[show].max()) if show.any() else 1.0, 1.0)
    fig = Figure(figsize=(8.5, 8.5), layout="constrained")
    ax = fig.subplots()
    minutes = g.walk.minutes
    radius = g.walk.radius_km
    fx, fy = facilities["x_km"].to_numpy(float), facilities["y_km"].to_numpy(float)
    circles = [Circle((a, b), radius) for a, b in zip(fx, fy, strict=True)]
    ax.add_collection(
        PatchCollection(circles, facecolor="#9ecae1", edgecolor="#4a6f8a", alpha=0.25, linewidths=0.5)
    )
    ax.scatter(x[show & within], y[show & within], s=size[show & within], c=COVERED, linewidths=0, zorder=3)
    ax.scatter(
        x[show & ~within],
        y[show & ~within],
        s=size[show & ~within],
        facecolors="none",
        edgecolors=UNCOVERED,
        linewidths=0.9,
        zorder=3,
    )
    handles = [
        Line2D([], [], marker="o", ls="", color=COVERED, label=label("map_covered", lang, minutes=minutes)),
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markerfacecolor="none",
            markeredgecolor=UNCOVERED,
            label=label("map_uncovered", lang, minutes=minutes),
        ),
    ]
    is_new = (
        facilities["id"].isin(new_sites["id"]).to_numpy()
        if new_sites is not None
        else np.zeros(len(fx), bool)
    )
    for ftype, (marker, msize) in MARKERS.items():
        of_type = (facilities["type"] == ftype).to_numpy()
        for new in (False, True):
            m = of_type & (is_new == new)
            if not m.any():
                continue
            ax.scatter(
                fx[m],
                fy[m],
                marker=marker,
                s=msize,
                c="#c0392b" if new else "black",
                edgecolors="white",
                linewidths=0.5,
                zorder=4,
            )
            name = label(f"map_{ftype}", lang) + (f"（{label('map_new_site', lang)}）" if new else "")
            if lang == "en" and new:
                name = f"{label(f'map_{ftype}', lang)} ({label('map_new_site', lang)})"
            handles.append(
                Line2D([], [], marker=marker, ls="", color="#c0392b" if new else "black", label=name)
            )
    handles.append(
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            markersize=12,
            markerfacecolor="#9ecae1",
            markeredgecolor="#4a6f8a",
            alpha=0.5,
            label=label("map_catchment", lang, minutes=minutes),
        )
    )
    total = elders.sum()
    share = f"{elders[within].sum() / total:.1%}" if total > 0 else "—"
    title = label("map_coverage_title", lang, minutes=minutes, year=year if year is not None else "")
    if new_sites is not None:
        title = label("map_siting_title", lang)
    ax.set_title(f"{title}\n{label('map_share', lang, share=share)}", fontsize=12)
    ax.set_aspect("equal")
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    else:
        ax.autoscale_view()
    ax.set_xlabel(label("axis_x_km", lang))
    ax.set_ylabel(label("axis_y_km", lang))
    ax.grid(True, color="#dddddd", linewidth=0.5)
    ax.legend(handles=handles, loc="upper left", fontsize=8, framealpha=0.9)
    notes = [label("map_size_note", lang)]
    if g.synthetic:
        notes.insert(0, label("map_synthetic", lang))
    if footer:
        notes.append(footer)
    fig.supxlabel(" · ".join(notes), fontsize=7, color="#555555", x=0.01, ha="left")
    return fig

"""Where an episode's area searches looked, and which sensitive sites lay within reach."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydeck as pdk

from detector.reference import EARTH_RADIUS_M, load_reference

SITE_REACH_M = 5_000.0  # sites this close to a searched area are shown
SITE_COLUMNS = ["site_id", "category", "name", "lat", "lon", "radius_m"]


def load_sites(reference_dir: Path | None) -> pd.DataFrame:
    """``sites.csv`` of the reference directory (spec section 2), or no sites."""
    if reference_dir is None:
        return pd.DataFrame(columns=SITE_COLUMNS)
    return load_reference(reference_dir).sites[SITE_COLUMNS].reset_index(drop=True)


def areas(frame: pd.DataFrame) -> pd.DataFrame:
    """The searches that name a place (area searches and any with coordinates)."""
    located = frame.dropna(subset=["lat", "lon"])
    return located.assign(radius_m=located["radius_m"].fillna(0.0))


def distances_m(lat: np.ndarray, lon: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances between every point of the first set and every point of the second."""
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat, lon, lat2, lon2))
    dp = p2[None, :] - p1[:, None]
    dl = l2[None, :] - l1[:, None]
    a = np.sin(dp / 2) ** 2 + np.cos(p1)[:, None] * np.cos(p2)[None, :] * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def nearby_sites(sites: pd.DataFrame, searched: pd.DataFrame, reach_m: float = SITE_REACH_M) -> pd.DataFrame:
    """Sites within ``reach_m`` of the edge of any searched circle, with the distance to the nearest."""
    if not len(sites) or not len(searched):
        return sites.iloc[:0].assign(distance_m=pd.Series(dtype=float))
    d = distances_m(searched["lat"], searched["lon"], sites["lat"], sites["lon"])
    edge = np.maximum(d - searched["radius_m"].to_numpy()[:, None], 0.0).min(axis=0)
    out = sites.assign(distance_m=edge.round(0))
    return out[out["distance_m"] <= reach_m].sort_values("distance_m").reset_index(drop=True)


def deck(searched: pd.DataFrame, sites: pd.DataFrame) -> pdk.Deck:
    """Searched circles in red over sensitive sites in blue.

    No basemap: tiles would tell a map provider which places internal affairs is looking at.
    """
    points = pd.concat([searched[["lat", "lon"]], sites[["lat", "lon"]]])
    view = pdk.ViewState(latitude=float(points["lat"].mean()), longitude=float(points["lon"].mean()), zoom=12)
    area_data = searched.assign(when=searched["ts"].dt.strftime("%Y-%m-%d %H:%M UTC"), what="searched area")[
        ["lat", "lon", "radius_m", "when", "what"]]
    site_data = sites.assign(when="", what=sites["category"].str.replace("_", " ") + ": " + sites["name"])[
        ["lat", "lon", "radius_m", "when", "what"]]
    layers = [
        pdk.Layer("ScatterplotLayer", data=site_data, get_position="[lon, lat]", get_radius="radius_m", radius_min_pixels=5,
                  get_fill_color=[30, 90, 200, 120], pickable=True),
        pdk.Layer("ScatterplotLayer", data=area_data, get_position="[lon, lat]", get_radius="radius_m", radius_min_pixels=4,
                  get_fill_color=[220, 40, 40, 70], get_line_color=[220, 40, 40, 220], stroked=True,
                  line_width_min_pixels=1, pickable=True),
    ]
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, tooltip={"text": "{what}\n{when}"})

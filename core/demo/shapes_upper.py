"""Silhouettes of upper-body and full-body garments (tops, outerwear, dresses, jumpsuits).

Every function draws on a :class:`Canvas` in unit coordinates. ``sv`` is the garment's style
vector (stable across re-renders of one item), ``pv`` the pose vector (changes per variant).
"""

from __future__ import annotations

import math

from core.demo import figure
from core.demo.canvas import Canvas, arc, mirror
from core.demo.draws import full_neckline, top_neckline, waist_band

FIT_INDEX = {"slim": 0, "regular": 1, "loose": 2, "n/a": 1}
SLEEVE_LENGTH = {"short": 0.10, "three-quarter": 0.23, "long": 0.33}
TOP_HEM = {"cropped": 0.52, "hip": 0.69, "knee": 0.86, "midi": 0.93}
DRESS_HEM = {"mini": 0.62, "knee": 0.73, "midi": 0.84, "maxi": 0.95}
STITCH = (196, 142, 60)  # contrast stitching on denim
CX = 0.5
NECK_Y = 0.25


def _sleeve(cv: Canvas, shoulder, armpit, angle: float, length: float, end_w: float,
            cuff: bool) -> tuple[float, float]:
    """Right sleeve polygon (mirrored by the caller); returns the sleeve-end centre."""
    a = math.radians(angle)
    d = (math.sin(a), math.cos(a))
    m = (-d[1], d[0])  # perpendicular towards the body
    e_out = (shoulder[0] + d[0] * length, shoulder[1] + d[1] * length)
    e_in = (e_out[0] + m[0] * end_w, e_out[1] + m[1] * end_w)
    pts = [shoulder, e_out, e_in, armpit]
    cv.fill(pts)
    cv.fill(mirror(pts))
    if cuff:
        inset = 0.025
        c_out = (e_out[0] - d[0] * inset, e_out[1] - d[1] * inset)
        c_in = (e_in[0] - d[0] * inset, e_in[1] - d[1] * inset)
        band = [c_out, e_out, e_in, c_in]
        cv.band(band, 205)
        cv.band(mirror(band), 205)
    seam = [shoulder, armpit]
    cv.line(seam, 0.004, 200)
    cv.line(mirror(seam), 0.004, 200)
    return ((e_out[0] + e_in[0]) / 2, (e_out[1] + e_in[1]) / 2)


def _neckline(cv: Canvas, kind: str, nw: float, ny: float) -> None:
    if kind == "crew":
        cv.cut_ellipse((CX - nw, ny - 0.03, CX + nw, ny + 0.032))
        cv.line(arc(CX, ny + 0.001, nw + 0.004, 0.033, 0, 180), 0.008, 205)
    elif kind == "scoop":
        cv.cut_ellipse((CX - nw * 1.25, ny - 0.04, CX + nw * 1.25, ny + 0.07))
    elif kind == "v":
        cv.cut([(CX - nw, ny - 0.03), (CX + nw, ny - 0.03), (CX, ny + 0.10)])
        cv.line([(CX - nw - 0.006, ny - 0.02), (CX, ny + 0.11), (CX + nw + 0.006, ny - 0.02)],
                0.006, 200)
    elif kind == "boat":
        cv.cut_ellipse((CX - nw * 1.7, ny - 0.035, CX + nw * 1.7, ny + 0.018))


def upper(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None,
          hem_y: float | None = None, hem_w: float | None = None) -> dict:
    """Bodice, sleeves and neckline of any upper or full garment; returns key geometry."""
    fit = FIT_INDEX[attrs.get("fit", "regular")]
    outer = cat in ("blazer", "cardigan", "jacket", "coat")
    sw = (0.145, 0.165, 0.19)[fit] + (sv[0] - 0.5) * 0.02 + (0.012 if outer else 0.0)
    nw = 0.048 + sv[1] * 0.012
    ny = NECK_Y
    hem = hem_y if hem_y is not None else TOP_HEM.get(attrs.get("length"), 0.69)
    hw = hem_w if hem_w is not None else sw * (0.93, 1.0, 1.1)[fit]
    angle = 12 + pv[0] * 30
    sleeve = attrs.get("sleeve", "long")
    armpit_y = ny + 0.12 + 0.02 * fit
    if sleeve == "sleeveless":
        strap = nw + 0.03 + sv[2] * 0.02
        right = [(CX + nw, ny - 0.012), (CX + strap, ny - 0.012),
                 *arc(CX + sw * 0.95, ny - 0.012, sw * 0.95 - strap, armpit_y - ny + 0.012,
                      180, 90, 6)[1:]]
        shoulder = (CX + strap, ny)
    else:
        shoulder = (CX + sw, ny + 0.01 + 0.012 * fit)
        right = [(CX + nw, ny - 0.012), shoulder, (CX + sw * 0.95, armpit_y)]
    if fit == 0 and hem > ny + 0.25:
        right.append((CX + sw * 0.86, ny + 0.22))
    right.append((CX + hw, hem))
    cv.fill(right + mirror(right))
    geo = {"ny": ny, "sw": sw, "nw": nw, "hem": hem, "hw": hw, "angle": angle,
           "armpit": (CX + sw * 0.95, armpit_y), "shoulder": shoulder}
    if model is not None:
        _model_upper(cv, model, geo)
    if sleeve != "sleeveless":
        length = SLEEVE_LENGTH[sleeve] * (1.0 + 0.1 * (fit == 2))
        end_w = (0.07, 0.085, 0.11)[fit] if sleeve != "short" else 0.11 + 0.01 * fit
        cuff = cat in ("sweater", "hoodie", "cardigan") or (cat == "shirt" and sleeve == "long")
        geo["cuff"] = _sleeve(cv, shoulder, geo["armpit"], angle, length, end_w, cuff)
    cv.anchor, cv.motif = (CX, ny + 0.14), 0.10
    return geo


def _model_upper(cv: Canvas, model: dict, geo: dict) -> None:
    figure.head(cv, model, CX, geo["ny"])
    sx, sy = geo["shoulder"]
    ax, ay = geo["armpit"]
    root = ((sx + ax) / 2 - 0.01, (sy + ay) / 2 - 0.02)
    for side in (1, -1):
        start = root if side == 1 else (2 * CX - root[0], root[1])
        figure.limb(cv, model, start, side * geo["angle"], 0.36, 0.07, 0.045)


def draw_top(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None) -> None:
    geo = upper(cv, cat, attrs, sv, pv, model)
    ny, nw, hem, hw = geo["ny"], geo["nw"], geo["hem"], geo["hw"]
    if cat == "shirt":
        cv.cut([(CX - nw, ny - 0.03), (CX + nw, ny - 0.03), (CX, ny + 0.05)])
        for s in (1, -1):
            collar = [(CX + s * nw, ny - 0.03), (CX + s * (nw + 0.03), ny + 0.03),
                      (CX + s * 0.005, ny + 0.055)]
            cv.fill(collar)
            cv.line(collar + [collar[0]], 0.005, 150)
        cv.line([(CX, ny + 0.055), (CX, hem)], 0.005, 170)
        for i in range(5):
            y = ny + 0.08 + i * (hem - ny - 0.1) / 4.5
            cv.trim_ellipse((CX - 0.009, y - 0.009, CX + 0.009, y + 0.009), (236, 232, 222))
        return
    kind = top_neckline(cat, attrs, sv)
    if cat == "hoodie":
        cv.fill_ellipse((CX - 0.1, ny - 0.05, CX + 0.1, ny + 0.06))
        cv.line(arc(CX, ny + 0.005, 0.1, 0.055, 0, 180), 0.006, 170)
        for s in (1, -1):
            cv.trim_line([(CX + s * 0.022, ny + 0.03), (CX + s * 0.028, ny + 0.12)], 0.007,
                         (235, 235, 230))
        pocket = [(CX - hw * 0.6, hem - 0.16), (CX + hw * 0.6, hem - 0.16),
                  (CX + hw * 0.75, hem - 0.05), (CX - hw * 0.75, hem - 0.05)]
        cv.line(pocket + [pocket[0]], 0.006, 170)
    _neckline(cv, kind, nw, ny)
    if cat in ("sweater", "hoodie"):
        _rib_band(cv, hw, hem)
    else:
        cv.line([(CX - hw + 0.01, hem - 0.015), (CX + hw - 0.01, hem - 0.015)], 0.004, 205)


def _rib_band(cv: Canvas, hw: float, hem: float) -> None:
    cv.band([(CX - hw, hem - 0.035), (CX + hw, hem - 0.035), (CX + hw, hem), (CX - hw, hem)], 205)
    n = int(hw * 2 / 0.018)
    for i in range(1, n):
        x = CX - hw + i * 2 * hw / n
        cv.line([(x, hem - 0.035), (x, hem)], 0.003, 185)


def draw_outer(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None) -> None:
    geo = upper(cv, cat, attrs, sv, pv, model)
    ny, nw, hem, hw = geo["ny"], geo["nw"], geo["hem"], geo["hw"]
    cv.cut_ellipse((CX - nw, ny - 0.03, CX + nw, ny + 0.03))
    denim = attrs.get("pattern") == "denim"
    if cat == "jacket":
        for s in (1, -1):
            cv.fill([(CX + s * nw, ny - 0.03), (CX + s * (nw + 0.045), ny + 0.02),
                     (CX + s * 0.01, ny + 0.04)])
            cv.line([(CX + s * nw, ny - 0.03), (CX + s * (nw + 0.045), ny + 0.02),
                     (CX + s * 0.01, ny + 0.04)], 0.005, 150)
            pocket = [(CX + s * 0.05, ny + 0.1), (CX + s * 0.12, ny + 0.1),
                      (CX + s * 0.12, ny + 0.17), (CX + s * 0.05, ny + 0.17)]
            if denim:
                cv.trim_line(pocket + [pocket[0]], 0.004, STITCH)
            else:
                cv.line([pocket[0], pocket[1]], 0.006, 160)
        if denim:
            for i in range(5):
                y = ny + 0.07 + i * (hem - ny - 0.1) / 4
                cv.trim_ellipse((CX - 0.01, y - 0.01, CX + 0.01, y + 0.01), (180, 150, 90))
            cv.trim_line([(CX - hw, hem - 0.04), (CX + hw, hem - 0.04)], 0.004, STITCH)
        else:
            cv.trim_line([(CX, ny + 0.04), (CX, hem)], 0.007, (150, 150, 155))
        return
    depth = ny + (0.22 if cat in ("blazer", "coat") else 0.17)
    for s in (1, -1):
        lapel = [(CX + s * nw, ny - 0.02), (CX + s * (nw + 0.05), ny + 0.08),
                 (CX + s * 0.01, depth)]
        cv.band([(CX + s * nw, ny - 0.02), (CX, ny + 0.02), (CX + s * 0.0, depth),
                 (CX + s * 0.01, depth)], 150 if cat != "cardigan" else 255)
        if cat in ("blazer", "coat"):
            cv.line(lapel, 0.006, 140)
        else:
            cv.line([lapel[0], lapel[2]], 0.006, 170)
    cv.line([(CX, depth), (CX, hem)], 0.005, 160)
    n_buttons = 2 if cat == "blazer" else (5 if cat == "cardigan" else 3)
    for i in range(n_buttons):
        y = depth + 0.03 + i * (hem - depth - 0.06) / max(n_buttons, 2)
        xs = (CX - 0.04, CX + 0.04) if cat == "coat" else (CX + 0.012,)
        for x in xs:
            cv.trim_ellipse((x - 0.011, y - 0.011, x + 0.011, y + 0.011), (40, 36, 34))
    if cat in ("blazer", "coat"):
        for s in (1, -1):
            y = min(hem - 0.08, ny + 0.33)
            cv.line([(CX + s * 0.05, y), (CX + s * 0.13, y)], 0.006, 150)
    if cat == "cardigan":
        _rib_band(cv, hw, hem)


def draw_full(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None) -> None:
    waist = NECK_Y + 0.22
    fit = FIT_INDEX[attrs.get("fit", "regular")]
    if model is not None and cat == "dress":
        hem = DRESS_HEM.get(attrs.get("length"), 0.73)
        figure.legs(cv, model, hem - 0.05, (CX - 0.045, CX + 0.045), width=0.06)
    sw = (0.145, 0.165, 0.165)[fit] + (sv[0] - 0.5) * 0.02
    ww = sw * 0.86
    geo = upper(cv, cat, {**attrs, "fit": "slim" if fit == 0 else "regular"}, sv, pv, model,
                hem_y=waist, hem_w=ww)
    if cat == "dress":
        hem = DRESS_HEM.get(attrs.get("length"), 0.73)
        hx = ww * (1.08, 1.45, 1.95)[fit] + (hem - waist) * 0.1
        wave = 0.012 if fit == 2 else 0.0
        hem_pts = [(CX + hx - 2 * hx * i / 10, hem + 0.015 * math.sin(math.pi * i / 10)
                    + wave * math.sin(i * 2.2)) for i in range(11)]
        cv.fill([(CX - ww, waist - 0.01), (CX + ww, waist - 0.01), *hem_pts])
        if fit == 2:
            for i in range(1, 6):
                t = i / 6
                cv.line([(CX - ww + 2 * ww * t, waist), (CX - hx + 2 * hx * t, hem)], 0.004, 205)
    else:
        hem = {"full": 0.93, "cropped": 0.84, "mini": waist + 0.2}.get(attrs.get("length"), 0.93)
        pant_legs(cv, waist - 0.01, ww, hem, fit, pv, model, shorts=cat == "romper")
    _neckline(cv, full_neckline(attrs, sv), geo["nw"], geo["ny"])
    if waist_band(sv):
        cv.band([(CX - ww, waist - 0.02), (CX + ww, waist - 0.02), (CX + ww, waist + 0.015),
                 (CX - ww, waist + 0.015)], 175)
    else:
        cv.line([(CX - ww, waist), (CX + ww, waist)], 0.005, 190)
    cv.anchor, cv.motif = (CX, geo["ny"] + 0.12), 0.09


def pant_legs(cv: Canvas, top: float, ww: float, hem: float, fit: int, pv, model: dict | None,
               shorts: bool = False) -> None:
    """Two trouser legs hanging from a waist line at ``top`` (shared with the bottoms)."""
    hip = ww * 1.1
    crotch = top + (0.2 if not shorts else 0.14)
    leg_w = (0.045, 0.06, 0.085)[fit] + (0.025 if shorts else 0.0)
    spread = 0.01 + pv[1] * 0.05
    ox = hip + spread * (hem - top) / 0.7 + (0.01 if fit == 2 else 0.0)
    ix = max(ox - 2 * leg_w, 0.006)
    if model is not None:
        figure.legs(cv, model, hem - 0.04, (CX - (ox + ix) / 2, CX + (ox + ix) / 2),
                    width=leg_w * 1.2 if not shorts else 0.065)
    right = [(CX + ww, top), (CX + hip, top + 0.1), (CX + ox, hem), (CX + ix, hem)]
    cv.fill(right + [(CX, crotch)] + mirror(right))
    cv.line([(CX, crotch), (CX, top + 0.03)], 0.004, 185)
    for s in (1, -1):
        cv.line([(CX + s * ox, hem - 0.02), (CX + s * ix, hem - 0.02)], 0.004, 200)

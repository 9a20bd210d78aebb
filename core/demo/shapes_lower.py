"""Silhouettes of bottoms: trousers, jeans, shorts and skirts."""

from __future__ import annotations

import math

from core.demo import figure
from core.demo.canvas import Canvas, arc
from core.demo.shapes_upper import CX, FIT_INDEX, STITCH, pant_legs

WAIST_Y = 0.17
TROUSER_HEM = {"full": 0.93, "cropped": 0.82}
SHORTS_HEM = {"mini": 0.45, "knee": 0.58}
SKIRT_HEM = {"mini": 0.43, "knee": 0.58, "midi": 0.73, "maxi": 0.9}
RIVET = (186, 120, 64)


def _waistband(cv: Canvas, ww: float, loops: bool) -> None:
    top = WAIST_Y
    cv.band([(CX - ww, top), (CX + ww, top), (CX + ww * 1.01, top + 0.035),
             (CX - ww * 1.01, top + 0.035)], 212)
    cv.line([(CX - ww, top + 0.035), (CX + ww, top + 0.035)], 0.004, 170)
    if loops:
        for x in (-0.8, -0.35, 0.35, 0.8):
            cv.line([(CX + x * ww, top), (CX + x * ww, top + 0.04)], 0.008, 175)
        cv.trim_ellipse((CX - 0.01, top + 0.008, CX + 0.01, top + 0.027), (170, 160, 140))


def draw_bottom(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None) -> None:
    fit = FIT_INDEX[attrs.get("fit", "regular")]
    ww = (0.135, 0.15, 0.17)[fit] + (sv[0] - 0.5) * 0.015
    if cat == "skirt":
        _skirt(cv, attrs, ww, fit, pv, model)
        return
    shorts = cat == "shorts"
    hem = (SHORTS_HEM if shorts else TROUSER_HEM).get(attrs.get("length"), 0.93)
    pant_legs(cv, WAIST_Y, ww, hem, fit, pv, model if (shorts or hem < 0.9) else None,
               shorts=shorts)
    if model is not None and not shorts and hem >= 0.9:
        for s in (-1, 1):
            x = CX + s * (ww * 1.1 - 0.03)
            cv.body_ellipse("skin", (x - 0.03, hem - 0.02, x + 0.05, hem + 0.04), model["skin"])
    _waistband(cv, ww, loops=True)
    cv.line([(CX + 0.012, WAIST_Y + 0.035), (CX + 0.012, WAIST_Y + 0.15)], 0.004, 165)
    jeans = attrs.get("pattern") == "denim"
    for s in (1, -1):
        if jeans:
            pocket = arc(CX + s * ww, WAIST_Y + 0.035, ww * 0.5, 0.07, 180 if s > 0 else 0, 90)
            cv.trim_line(pocket, 0.004, STITCH)
            cv.trim_ellipse((CX + s * ww * 0.5 - 0.007, WAIST_Y + 0.04,
                             CX + s * ww * 0.5 + 0.007, WAIST_Y + 0.054), RIVET)
        else:
            cv.line([(CX + s * ww * 0.55, WAIST_Y + 0.035), (CX + s * ww * 1.05, WAIST_Y + 0.11)],
                    0.005, 170)
        if cat == "trousers":
            x0 = CX + s * ww * 0.55
            cv.line([(x0, WAIST_Y + 0.05), (x0 + s * (pv[1] * 0.04), hem - 0.01)], 0.004, 215)
    if jeans:
        cv.trim_line([(CX + 0.012, WAIST_Y + 0.035), (CX + 0.012, WAIST_Y + 0.14),
                      (CX - 0.01, WAIST_Y + 0.16)], 0.004, STITCH)


def _skirt(cv: Canvas, attrs: dict, ww: float, fit: int, pv, model: dict | None) -> None:
    hem = SKIRT_HEM.get(attrs.get("length"), 0.58)
    hx = ww * (1.08, 1.5, 2.0)[fit] + (hem - WAIST_Y) * 0.08
    if model is not None:
        spread = 0.02 + pv[1] * 0.02
        figure.legs(cv, model, hem - 0.06, (CX - ww * 0.45 - spread, CX + ww * 0.45 + spread),
                    width=0.075)
    wave = 0.01 if fit == 2 else 0.0
    hem_pts = [(CX + hx - 2 * hx * i / 12, hem + 0.02 * math.sin(math.pi * i / 12)
                + wave * math.sin(i * 1.9)) for i in range(13)]
    cv.fill([(CX - ww, WAIST_Y), (CX + ww, WAIST_Y), *hem_pts])
    _waistband(cv, ww, loops=False)
    if attrs.get("pattern") == "denim":
        cv.trim_line([(CX + 0.01, WAIST_Y + 0.035), (CX + 0.01, hem)], 0.004, STITCH)
    if fit >= 1:
        n = 4 + 3 * fit
        for i in range(1, n):
            t = i / n
            cv.line([(CX - ww + 2 * ww * t, WAIST_Y + 0.04), (CX - hx + 2 * hx * t, hem)],
                    0.004, 200)

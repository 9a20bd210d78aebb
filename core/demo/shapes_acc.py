"""Silhouettes of accessories: shoes (a side-view pair), bags and hats."""

from __future__ import annotations

from core.demo import figure
from core.demo.canvas import Canvas, arc
from core.demo.draws import bag_draws, hat_draws, sandal_draws, sneaker_sole

SOLES = ((244, 243, 238), (38, 36, 36), (178, 132, 86))
HARDWARE = ((212, 176, 90), (196, 198, 204))


def _sneaker(cv: Canvas, x0: float, g: float, sv, front: bool) -> list:
    length = 0.5
    sole = SOLES[sneaker_sole(sv)]
    upper = [(x0 + 0.015, g - 0.05), (x0, g - 0.2), (x0 + 0.11, g - 0.17),
             (x0 + 0.19, g - 0.215), (x0 + 0.24, g - 0.19), (x0 + 0.38, g - 0.12),
             (x0 + length - 0.01, g - 0.085), (x0 + length, g - 0.05)]
    cv.fill(upper)
    cv.trim_poly([(x0 - 0.005, g - 0.055), (x0 + length + 0.01, g - 0.055),
                  *arc(x0 + length - 0.03, g - 0.03, 0.04, 0.028, 0, 90, 4),
                  (x0 + 0.02, g), (x0 - 0.005, g - 0.02)], sole)
    if front:
        for i in range(4):
            x = x0 + 0.2 + i * 0.04
            y = g - 0.19 + i * 0.022
            cv.trim_line([(x - 0.012, y - 0.012), (x + 0.02, y + 0.016)], 0.008, (240, 240, 236))
        cv.line([(x0 + 0.1, g - 0.06), (x0 + 0.34, g - 0.13)], 0.006, 170)
        cv.anchor, cv.motif = (x0 + 0.22, g - 0.1), 0.07
    return upper


def _boot(cv: Canvas, x0: float, g: float, front: bool, tall: bool) -> list:
    length = 0.44
    top = g - (0.55 if tall else 0.3)
    upper = [(x0 + 0.02, g - 0.04), (x0 + 0.02, top), (x0 + 0.17, top),
             (x0 + 0.19, g - 0.18), (x0 + 0.3, g - 0.12), (x0 + length - 0.02, g - 0.09),
             (x0 + length, g - 0.05), (x0 + length, g - 0.03)]
    cv.fill(upper)
    dark = SOLES[1]
    cv.trim_poly([(x0 + 0.0, g - 0.04), (x0 + length + 0.005, g - 0.04),
                  (x0 + length + 0.005, g - 0.02), (x0 + 0.1, g - 0.015), (x0 + 0.095, g),
                  (x0 + 0.005, g)], dark)
    if front:
        cv.line([(x0 + 0.03, top + 0.01), (x0 + 0.16, top + 0.01)], 0.01, 190)
        cv.line([(x0 + 0.16, top + 0.02), (x0 + 0.17, g - 0.14)], 0.005, 160)
    return upper


def _heel(cv: Canvas, x0: float, g: float, _sv, front: bool) -> list:
    topline = [(x0 + 0.045, g - 0.215), (x0 + 0.1, g - 0.19), (x0 + 0.17, g - 0.155),
               (x0 + 0.235, g - 0.12), (x0 + 0.28, g - 0.1)]
    upper = [*topline, (x0 + 0.35, g - 0.088), (x0 + 0.42, g - 0.058), (x0 + 0.47, g - 0.018),
             (x0 + 0.46, g), (x0 + 0.32, g), (x0 + 0.22, g - 0.045), (x0 + 0.14, g - 0.105),
             (x0 + 0.08, g - 0.15), (x0 + 0.04, g - 0.16), (x0 + 0.035, g - 0.19)]
    cv.fill(upper)
    cv.fill([(x0 + 0.04, g - 0.16), (x0 + 0.095, g - 0.15), (x0 + 0.078, g), (x0 + 0.062, g)])
    lining = topline + [(x + 0.01, y + 0.028) for x, y in reversed(topline)]
    cv.band(lining, 165 if front else 185)
    return upper


def _sandal(cv: Canvas, cx: float, sv, flip: bool) -> list:
    """One sandal seen from above, toes up: a footbed in the sandal's colour plus straps."""
    edge_index, cross_strap = sandal_draws(sv)
    edge = SOLES[edge_index]
    s = -1 if flip else 1
    outline = [*arc(cx + s * 0.01, 0.3, 0.085, 0.11, 180, 360, 10),
               (cx + 0.075, 0.5), *arc(cx, 0.72, 0.065, 0.09, 0, 180, 8), (cx - 0.075, 0.5)]
    cv.fill(outline)
    cv.trim_line(outline + [outline[0]], 0.012, edge)
    inner = [(cx + (x - cx) * 0.86, 0.5 + (y - 0.5) * 0.92) for x, y in outline]
    cv.band(inner, 230)
    if cross_strap:
        straps = [[(cx - 0.09, 0.33), (cx + 0.09, 0.31), (cx + 0.09, 0.39), (cx - 0.09, 0.41)]]
    else:
        straps = [[(cx - 0.085, 0.44), (cx + s * 0.01, 0.29), (cx + 0.085, 0.44),
                   (cx + 0.06, 0.45), (cx + s * 0.01, 0.34), (cx - 0.06, 0.45)]]
    straps.append([(cx - 0.08, 0.47), (cx + 0.08, 0.46), (cx + 0.08, 0.51), (cx - 0.08, 0.52)])
    straps.append([(cx - 0.07, 0.65), (cx + 0.07, 0.65), (cx + 0.07, 0.675), (cx - 0.07, 0.675)])
    for strap in straps:
        cv.fill(strap)
        cv.band(strap, 255)
        cv.line(strap + [strap[0]], 0.005, 150)
    return outline


def draw_shoes(cv: Canvas, cat: str, attrs: dict, sv, pv, model: dict | None) -> None:
    if cat == "sandals":
        gap = 0.11 + pv[1] * 0.05
        _sandal(cv, 0.5 - gap, sv, flip=True)
        _sandal(cv, 0.5 + gap, sv, flip=False)
        cv.anchor, cv.motif = (0.5, 0.5), 0.06
        return
    g = 0.72
    x_front = 0.22 + (pv[2] - 0.5) * 0.03
    dx, dy = 0.11 + pv[1] * 0.06, -0.07
    tall = attrs.get("length") == "knee"
    draw = {"sneakers": _sneaker, "heels": _heel}.get(cat)
    for i, (x0, gy) in enumerate(((x_front + dx, g + dy), (x_front, g))):
        front = i == 1
        if model is not None and cat in ("heels", "sneakers"):
            figure.limb(cv, model, (x0 + 0.08, gy - 0.57), -2, 0.45, 0.08, 0.06, end="none")
            if cat == "heels":
                cv.body_poly("skin", [(x0 + 0.05, gy - 0.21), (x0 + 0.13, gy - 0.2),
                                      (x0 + 0.3, gy - 0.1), (x0 + 0.1, gy - 0.15)],
                             model["skin"])
        def shoe(x0=x0, gy=gy, front=front):
            if draw is None:
                return _boot(cv, x0, gy, front, tall)
            return draw(cv, x0, gy, sv, front)

        outline = shoe()
        if not front:
            cv.band(outline, 222)
        else:  # clear the back shoe's shade under the front one, then draw it again
            cv.band(outline, 255)
            shoe()
            cv.line(outline + [outline[0]], 0.005, 150)


def draw_bag(cv: Canvas, _cat: str, _attrs: dict, sv, _pv, model: dict | None) -> None:
    kind, metal_index = bag_draws(sv)
    metal = HARDWARE[metal_index or 0]
    if kind == "tote":
        handle = [arc(x, 0.4, 0.075, 0.2, 180, 360, 10) for x in (0.4, 0.6)]
        body = [(0.27, 0.4), (0.73, 0.4), (0.77, 0.8), (0.23, 0.8)]
        top = 0.2
    elif kind == "handbag":
        handle = [arc(0.5, 0.43, 0.14, 0.17, 180, 360, 12)]
        body = [(0.28, 0.43), (0.72, 0.43), (0.78, 0.74), *arc(0.74, 0.74, 0.04, 0.04, 0, 90, 3),
                *arc(0.26, 0.74, 0.04, 0.04, 90, 180, 3), (0.22, 0.74)]
        top = 0.26
    elif kind == "crossbody":
        handle = [[(0.33, 0.5), (0.42, 0.12), (0.58, 0.12), (0.67, 0.5)]]
        body = [(0.3, 0.5), (0.7, 0.5), (0.7, 0.76), (0.3, 0.76)]
        top = 0.12
    else:
        handle = [arc(0.5, 0.27, 0.06, 0.06, 180, 360, 8)]
        body = [*arc(0.5, 0.36, 0.2, 0.12, 180, 360, 10), (0.71, 0.8), (0.29, 0.8)]
        top = 0.21
    if model is not None:
        hx = 0.5 if kind != "tote" else 0.6
        figure.limb(cv, model, (hx + 0.02, -0.1), -3, top + 0.1, 0.085, 0.065, end="none")
        cv.body_ellipse("skin", (hx - 0.045, top - 0.04, hx + 0.045, top + 0.05), model["skin"])
    for h in handle:
        cv.fill_line(h, 0.026 if kind != "crossbody" else 0.014)
    cv.fill(body)
    cv.line(body + [body[0]], 0.005, 160)
    if kind in ("handbag", "crossbody"):
        flap_y = body[0][1] + (body[2][1] - body[0][1]) * 0.5
        cv.band([body[0], body[1], (body[1][0], flap_y), (0.5, flap_y + 0.04),
                 (body[0][0], flap_y)], 225)
        cv.trim_ellipse((0.485, flap_y + 0.02, 0.515, flap_y + 0.05), metal)
    elif kind == "backpack":
        cv.band([(0.34, 0.56), (0.66, 0.56), (0.66, 0.78), (0.34, 0.78)], 215)
        cv.trim_line(arc(0.5, 0.4, 0.17, 0.1, 190, 350, 10), 0.006, metal)
    else:
        cv.line([(0.27, 0.44), (0.73, 0.44)], 0.005, 180)
    cv.anchor, cv.motif = (0.5, 0.6), 0.12


def draw_hat(cv: Canvas, _cat: str, _attrs: dict, sv, _pv, model: dict | None) -> None:
    kind, pompom = hat_draws(sv)
    if model is not None:
        s = 2.6
        figure.head(cv, model, 0.5, 0.62 + 0.115 * s + 0.1, scale=s)
    if kind == "beanie":
        cv.fill([*arc(0.5, 0.56, 0.22, 0.3, 180, 360, 16)])
        cv.fill([(0.27, 0.52), (0.73, 0.52), (0.74, 0.66), (0.26, 0.66)])
        cv.band([(0.27, 0.54), (0.73, 0.54), (0.74, 0.66), (0.26, 0.66)], 210)
        for i in range(1, 16):
            x = 0.27 + i * 0.46 / 16
            cv.line([(x, 0.54), (x, 0.66)], 0.004, 185)
        if pompom:
            cv.fill_ellipse((0.44, 0.2, 0.56, 0.31))
    elif kind == "cap":
        cv.fill([*arc(0.5, 0.6, 0.21, 0.26, 180, 360, 16)])
        cv.fill([(0.62, 0.56), (0.88, 0.6), (0.86, 0.64), (0.62, 0.62)])
        cv.line([(0.62, 0.6), (0.87, 0.62)], 0.006, 160)
        for x in (0.43, 0.57):
            cv.line(arc(0.5, 0.6, abs(x - 0.5) * 2.2, 0.26, 220, 270, 6), 0.004, 180)
        cv.trim_ellipse((0.485, 0.33, 0.515, 0.36), (60, 60, 60))
    else:
        wide = kind == "sunhat"
        cv.fill([(0.36, 0.56), (0.38, 0.38), (0.45, 0.33), (0.5, 0.36), (0.55, 0.33),
                 (0.62, 0.38), (0.64, 0.56)])
        rx = 0.38 if wide else 0.29
        cv.fill_ellipse((0.5 - rx, 0.52, 0.5 + rx, 0.63))
        cv.trim_poly([(0.36, 0.5), (0.64, 0.5), (0.645, 0.555), (0.355, 0.555)], (40, 34, 30))
        cv.line(arc(0.5, 0.575, rx - 0.004, 0.05, 0, 180, 16), 0.005, 175)
    cv.anchor, cv.motif = (0.5, 0.47), 0.1

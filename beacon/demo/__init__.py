"""``beacon demo``: Trailbird, a fictitious trail-running brand with known, planted structure.

- :mod:`beacon.demo._brand` — the brand's own posts, mentions, campaigns, experiments
  and influencers (:func:`build_demo` builds the whole workspace);
- :mod:`beacon.demo._creators` — Instagram creators, two with bought engagement;
- :mod:`beacon.demo._support` — six months of customers on the support widget;
- :mod:`beacon.demo._media` — synthetic pictures for image posts, with a planted effect;
- :mod:`beacon.demo._home` — all of ``beacon demo``: the workspace, scores, document index
  and engagement model (:func:`build_demo_home`).
"""

from __future__ import annotations

from beacon.demo._brand import BRAND, CAMPAIGNS, INFLUENCERS, DemoReport, build_demo
from beacon.demo._creators import CREATORS, add_demo_creators
from beacon.demo._home import DEMO_DOCS, DEMO_STEPS, DemoHome, build_demo_home
from beacon.demo._media import ImageSpec, add_demo_media, render_image

__all__ = [
    "BRAND",
    "CAMPAIGNS",
    "CREATORS",
    "DEMO_DOCS",
    "DEMO_STEPS",
    "INFLUENCERS",
    "DemoHome",
    "DemoReport",
    "ImageSpec",
    "add_demo_creators",
    "add_demo_media",
    "build_demo",
    "build_demo_home",
    "render_image",
]

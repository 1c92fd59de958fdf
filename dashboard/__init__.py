"""The staff dashboard: views to look around in, opened from answers by signed links.

- :mod:`dashboard.app`: the Streamlit page (``beacon serve`` starts it beside the bot).
- :mod:`dashboard._data`: what each view shows, from the analytics functions the bot uses.
- Links are signed and read by :mod:`foundation.view_links`.
"""

"""Beacon's custom actions for the rasa-sdk action server.

Actions are thin: read slots, call one function of :mod:`analytics` or
:mod:`knowledge`, format the reply, return events. rasa-sdk imports every module
in this package to register actions, so nothing here does work at import time;
models and connections are built by :func:`actions.services.get_services`, which
the server warms up once at start (``python -m actions.server``).
"""

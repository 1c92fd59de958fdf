"""Beacon's Rasa project. Python here runs inside the Rasa process (Python 3.10, .venv-bot)."""

# UNTESTED EXAMPLE (no container engine on the machines this project is built on).
# The action server and the CLI: Python 3.11, requirements/app.lock (torch's CPU build).
FROM python:3.11-slim-bookworm
WORKDIR /srv/beacon
COPY requirements/ requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/app.lock
COPY . .
RUN pip install --no-cache-dir --no-deps -e .
CMD ["python", "-m", "actions.server", "--host", "0.0.0.0", "--port", "5055"]

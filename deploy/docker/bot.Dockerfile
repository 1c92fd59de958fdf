# UNTESTED EXAMPLE (no container engine on the machines this project is built on).
# Rasa 3.6 needs Python 3.10: the bot's environment from requirements/bot.lock.
FROM python:3.10-slim-bookworm
WORKDIR /srv/beacon
COPY requirements/ requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/bot.lock \
 && pip install --no-cache-dir --require-hashes -r requirements/bot-models.lock
COPY . .
ENV PYTHONPATH=/srv/beacon RASA_TELEMETRY_ENABLED=false
# The model is trained at build time (`rasa train`), so replicas start the same one.
RUN rasa train --config config.yml --domain bot/domain --data bot/data --out /srv/beacon/models
CMD ["sh", "-c", "rasa run --model /srv/beacon/models --endpoints endpoints.yml --credentials credentials.yml --interface 0.0.0.0 --port 5005"]

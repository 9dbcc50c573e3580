FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/crmsync
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY workers ./workers
COPY ews_simulator ./ews_simulator
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system --home /srv/crmsync crmsync \
    && mkdir -p /srv/crmsync/crmsync-data && chown crmsync /srv/crmsync/crmsync-data
USER crmsync
EXPOSE 8000
CMD ["crmsync", "serve", "--host", "0.0.0.0", "--port", "8000"]

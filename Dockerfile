# The image installs crmsync's wheel, as `pip install` would on any machine: the build stage
# makes the wheel from the source, the final stage has the wheel's contents and nothing else
# of the checkout. Migrations travel inside the wheel (the `migrations` package).
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CRMSYNC_DATA_DIR=/var/lib/crmsync
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --home-dir /var/lib/crmsync crmsync \
    && mkdir -p /var/lib/crmsync && chown crmsync /var/lib/crmsync
USER crmsync
WORKDIR /var/lib/crmsync
# The data directory (uploaded imports, the content store of documents and attachments, the
# beat schedule) is a volume that the api, worker and beat containers share.
VOLUME /var/lib/crmsync
EXPOSE 8000
CMD ["crmsync", "serve", "--host", "0.0.0.0", "--port", "8000"]

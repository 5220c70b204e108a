FROM python:3.12-slim
RUN pip install --no-cache-dir pdm "hishel<2"
WORKDIR /app
COPY pyproject.toml pdm.lock README.md ./
COPY domain domain
COPY application application
COPY infrastructure infrastructure
COPY interfaces interfaces
RUN pdm install --prod --frozen-lockfile --no-self && pdm install --prod --frozen-lockfile
ENV PATH=/app/.venv/bin:$PATH
USER nobody

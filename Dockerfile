# The studio in a container: the server, the embedded worker and the built editor.
FROM node:20-bookworm-slim AS editor
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
WORKDIR /app
RUN pip install --no-cache-dir torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY components/ components/
COPY templates/ templates/
RUN pip install --no-cache-dir -e .
COPY --from=editor /src/frontend/dist frontend/dist
ENV ABACUS_HOME=/var/abacus
EXPOSE 8000
CMD ["abacus", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-root", "/data"]

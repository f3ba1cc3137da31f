# The API and worker image (Neo4j and Redis come from their official images in docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY graph_schema ./graph_schema
COPY grammar ./grammar
COPY scoring ./scoring
COPY server ./server
COPY services ./services
RUN pip install --no-cache-dir . && useradd --create-home segments
USER segments
EXPOSE 8000
CMD ["segments", "serve", "--host", "0.0.0.0"]

"""Local Neo4j and Redis for machines without Docker: fetched, started and stopped by PID."""

from server.services.process import ServiceError, ServiceStatus

__all__ = ["ServiceError", "ServiceStatus"]

"""The composition root: settings, service management, CLI, GraphQL API and workers."""

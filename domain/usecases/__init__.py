"""Use cases: async functions run inside one unit of work by ``domain.usecases.runner``."""

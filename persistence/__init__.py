"""MongoDB side of omnidesk: documents, repositories, transactions, events, timers, embedded mongod."""

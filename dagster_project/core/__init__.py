"""What every stage shares: settings and paths, the warehouse connection, partitions,
alerts, and the loader of SQL files."""

"""Operations: health checks for load balancers, structured request logs, backups."""

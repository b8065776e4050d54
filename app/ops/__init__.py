"""Operations: backup and restore, the health endpoint."""

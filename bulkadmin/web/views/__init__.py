"""The pages of the staff web admin, one module per area."""

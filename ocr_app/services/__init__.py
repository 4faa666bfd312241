"""Inkdex's business logic, as plain functions (views, tasks and commands call these)."""

"""Shared internals of the tasks API Lambda handlers (standard library and boto3 only)."""

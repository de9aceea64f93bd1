"""The OpenAPI document of the service, built from its route table, and the reference page."""

"""The HTTP face of Atelier: thin Starlette handlers that parse, call one use case, and answer."""

"""The engine's own exception types."""


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit (matmul, broadcasting, reshape, permute).

    Torch raises RuntimeError for these, so code written against torch catches them here too; it is
    also a ValueError, which is what this engine raised before, so older callers keep working.
    """

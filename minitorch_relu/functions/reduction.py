"""A loss's ``reduction`` ("mean", "sum" or "none") and its derivative, shared by the loss ops."""


def reduce_losses(losses, reduction, count=None):
    """The mean of the losses (over ``count`` of them when some rows are ignored), their sum, or
    the losses themselves for 'none'."""
    if reduction == "mean":
        return losses.mean() if count is None else losses.sum() / count
    return losses.sum() if reduction == "sum" else losses


def loss_scale(grad, reduction, count, per_row=False):
    """d(reduced loss)/d(each loss) times the incoming gradient: grad / count for 'mean', grad for
    'sum' and for 'none' (where grad holds one value per loss; ``per_row`` shapes it (N, 1) so it
    broadcasts over each row's classes)."""
    if reduction == "mean":
        return grad / count
    return grad[:, None] if per_row and reduction == "none" else grad

"""``kl_divergence(p, q)`` for the pairs with a closed form here."""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .normal import Normal


def _normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


def _categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    return t.masked_fill(p.probs == 0, 0.0).sum(-1)


def _bernoulli_bernoulli(p, q):
    from ..nn.functional import softplus

    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    return t1 + t2


_KL = {
    (Normal, Normal): _normal_normal,
    (Categorical, Categorical): _categorical_categorical,
    (Bernoulli, Bernoulli): _bernoulli_bernoulli,
}


def kl_divergence(p, q):
    """KL(p || q), per batch member. Pairs: Normal/Normal, Categorical/Categorical,
    Bernoulli/Bernoulli.

    Example::

        kl = kl_divergence(Normal(mu, sigma), Normal(0.0, 1.0)).sum()
    """
    fn = _KL.get((type(p), type(q)))
    if fn is None:
        raise NotImplementedError(
            f"kl_divergence: no closed form for {type(p).__name__} and "
            f"{type(q).__name__} in chainrule"
        )
    return fn(p, q)

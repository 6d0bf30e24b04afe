"""How far maml_fd's finite-difference meta-gradient is from exact second-order MAML.

One 5-way 1-shot task of random 28x28 images (25 queries), Conv4 with 16 filters, 3 inner
steps at inner_lr 0.01; relative error ||g_fd - g_exact|| / ||g_exact|| over all tensors for
several epsilons, and for comparison the first-order approximation's. Run on the ReLU /
max-pool Conv4 (default) or the smooth one (``--smooth``), in float32 or ``--float64``.

    python benchmarks/fd_hessian.py [--smooth] [--float64]
"""

import argparse
from types import SimpleNamespace

import torch

from innerloop.algorithms.maml import MAML, FiniteDifferenceMAML
from innerloop.models import Conv4, init_params


def relative(a, b):
    return (sum((x - y).norm() ** 2 for x, y in zip(a, b)) ** 0.5 / sum(y.norm() ** 2 for y in b) ** 0.5).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smooth", action="store_true", help="softplus and average pooling instead of ReLU, max-pool")
    parser.add_argument("--float64", action="store_true")
    args = parser.parse_args()
    dtype = torch.float64 if args.float64 else torch.float32
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    model = Conv4(1, 5, 16, 28, smooth=args.smooth).to(dtype)
    init = {k: v.to(dtype) for k, v in init_params(model, g).items()}
    task = SimpleNamespace(support_x=torch.rand(5, 1, 28, 28, generator=g, dtype=dtype), support_y=torch.arange(5),
                           query_x=torch.rand(25, 1, 28, 28, generator=g, dtype=dtype),
                           query_y=torch.arange(5).repeat_interleave(5))

    def meta_gradient(learner):
        loss, _ = learner.outer_loss(task)
        return torch.autograd.grad(loss, list(learner.init.values()))

    exact = meta_gradient(MAML(model, init, inner_steps=3, inner_lr=0.01))
    first = meta_gradient(MAML(model, init, inner_steps=3, inner_lr=0.01, first_order=True))
    print(f"{'smooth' if args.smooth else 'ReLU/max-pool'} Conv4, {dtype}; first order: {relative(first, exact):.3g}")
    for eps in (1e-4, 1e-3, 1e-2, 1e-1):
        fd = meta_gradient(FiniteDifferenceMAML(model, init, inner_steps=3, inner_lr=0.01, epsilon=eps))
        print(f"epsilon {eps:g}: relative error {relative(fd, exact):.3g}")


if __name__ == "__main__":
    main()

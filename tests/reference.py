"""The small float64 problem on the smooth Conv4 that the meta-gradient reference tests share."""

from types import SimpleNamespace

import torch

from innerloop.models import Conv4, init_params

WAYS, SHOTS, QUERIES, SIZE, STEPS = 3, 2, 2, 16, 2


def smooth_problem():
    """``(model, init, task)``: a 3-filter smooth Conv4 in float64, its seeded initialisation,
    and one random 3-way 2-shot task (with store class ids for learners that use them)."""
    model = Conv4(in_channels=1, ways=WAYS, filters=3, image_size=SIZE, smooth=True).double()
    init = {k: v.double() for k, v in init_params(model, torch.Generator().manual_seed(0)).items()}
    gen = torch.Generator().manual_seed(1)
    task = SimpleNamespace(
        support_x=torch.rand(WAYS * SHOTS, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        support_y=torch.arange(WAYS).repeat_interleave(SHOTS),
        query_x=torch.rand(WAYS * QUERIES, 1, SIZE, SIZE, generator=gen, dtype=torch.float64),
        query_y=torch.arange(WAYS).repeat_interleave(QUERIES),
        classes=(7, 2, 5),
    )
    return model, init, task

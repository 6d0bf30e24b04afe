"""Conv4: the paper's shapes, batch-statistics BatchNorm, and a functional forward."""

import torch

from innerloop.models import Conv4, embed, embedding_size, forward, init_params, layer_of


def test_embedding_is_1600_at_84_with_64_filters():
    assert embedding_size(84, 64) == 1600
    model = Conv4(in_channels=3, ways=5, filters=64, image_size=84)
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(4, 3, 84, 84)
    assert embed(model, params, x).shape == (4, 1600)
    assert forward(model, params, x).shape == (4, 5)


def test_batchnorm_keeps_no_running_statistics_and_uses_the_batch():
    model = Conv4(in_channels=1, ways=3, filters=4, image_size=28)
    assert list(model.buffers()) == []
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(6, 1, 28, 28)
    # The same image gets a different embedding in a different batch: statistics come from the batch.
    assert not torch.allclose(embed(model, params, x)[:1], embed(model, params, torch.cat([x[:1], 2 * x[1:]]))[:1])


def test_forward_uses_the_given_parameters_not_the_modules():
    model = Conv4(in_channels=1, ways=3, filters=4, image_size=28)
    params = init_params(model, torch.Generator().manual_seed(0))
    x = torch.rand(5, 1, 28, 28)
    shifted = {**params, "head.bias": params["head.bias"] + 1.0}
    torch.testing.assert_close(forward(model, shifted, x), forward(model, params, x) + 1.0)
    assert {layer_of(n) for n in params} == {"conv1", "conv2", "conv3", "conv4", "logits"}

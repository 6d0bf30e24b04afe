"""Models used functionally: parameters in a dict, forward through ``functional_call``."""

from innerloop.models.conv4 import Conv4, Params, embed, embedding_size, forward, init_params, is_head, layer_of
from innerloop.models.mlp import MLP, init_mlp

__all__ = ["Conv4", "MLP", "Params", "embed", "embedding_size", "forward", "init_mlp", "init_params", "is_head",
           "layer_of"]

"""Models used functionally: parameters in a dict, forward through ``functional_call``."""

from innerloop.models.conv4 import Conv4, Params, embed, embedding_size, forward, init_params, is_head, layer_of

__all__ = ["Conv4", "Params", "embed", "embedding_size", "forward", "init_params", "is_head", "layer_of"]

"""Fixtures for tests/checkpoint/: torch.save files in every flavour users make, written by the
oracle's torch 2.x (zip with .data/serialization_id, byteorder and aligned records, or its legacy
writer), each with the state_dict that torch.load gives written as text (see
checkpoint_cases.write_expected), and the hostile files listed in hostile.txt (file, words its
error must contain)."""
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
import checkpoint_cases as cc  # noqa: E402

out = sys.argv[1]


def save_case(name, obj, expected, **kwargs):
    path = os.path.join(out, name)
    cc._atomic_save(obj, path, **kwargs)
    # The oracle: what PyTorch itself reads back. weights_only=False (torch 2.6+ defaults to True,
    # whose unpickler refuses protocol 4/5 FRAMEs): these files were made just above.
    loaded = torch.load(path, weights_only=False)
    cc.write_expected(expected(loaded), path + ".txt")


plain = cc.small_net().state_dict()
save_case("plain.pth", plain, lambda sd: sd)
save_case("plain_legacy.pth", plain, lambda sd: sd, _use_new_zipfile_serialization=False)
for proto in (3, 4, 5):
    save_case(f"plain_p{proto}.pth", plain, lambda sd: sd, pickle_protocol=proto)
save_case("dtypes.pth", cc.dtype_views(), lambda sd: sd)
save_case("dtypes_legacy.pth", cc.dtype_views(), lambda sd: sd,
          _use_new_zipfile_serialization=False)
save_case("dtypes_p5.pth", cc.dtype_views(), lambda sd: sd, pickle_protocol=5)
# torch 2.x: _rebuild_tensor_v3 dtypes (zip only: torch.load itself cannot read them back from a
# legacy file), requires_grad tensors, and its legacy writer (_use_new_zipfile_serialization=False).
save_case("dtypes_v3.pth", cc.untyped_dtypes(), lambda sd: sd)
save_case("dtypes_v3_p4.pth", cc.untyped_dtypes(), lambda sd: sd, pickle_protocol=4)
detached = lambda sd: collections.OrderedDict((k, v.detach()) for k, v in sd.items())  # noqa: E731
save_case("requires_grad.pth", cc.requires_grad_tensors(), detached)
save_case("requires_grad_legacy.pth", cc.requires_grad_tensors(), detached,
          _use_new_zipfile_serialization=False)
save_case("training.pth", cc.training_checkpoint(), lambda ck: ck["state_dict"])
parallel = collections.OrderedDict(("module." + k, v) for k, v in plain.items())
save_case("dataparallel.pth", parallel,
          lambda sd: collections.OrderedDict((k[len("module."):], v) for k, v in sd.items()))
# Parameters (not plain tensors) as values, as torch.save(dict(model.named_parameters())) gives.
params = collections.OrderedDict(cc.small_net().named_parameters())
save_case("parameters.pth", params, detached)

cases = cc.hostile_cases(out)
cc.write_cases_list(cases, os.path.join(out, "hostile.txt"))

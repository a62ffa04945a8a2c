"""Fixtures for tests/cli/test_ls.py and test_convert.py: a training checkpoint, every dtype with
views, a legacy file, a DataParallel file (names prefixed ckpt_), and the hostile files under
ckpt_hostile/ listed in ckpt_hostile/hostile.txt."""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import checkpoint_cases as cc  # noqa: E402

out = sys.argv[1]
cc._atomic_save(cc.training_checkpoint(), os.path.join(out, "ckpt_training.pth"))
cc._atomic_save(cc.dtype_views(), os.path.join(out, "ckpt_dtypes.pth"))
cc._atomic_save(cc.dtype_views(), os.path.join(out, "ckpt_legacy.pth"),
                _use_new_zipfile_serialization=False)
plain = cc.small_net().state_dict()
cc._atomic_save(collections.OrderedDict(("module." + k, v) for k, v in plain.items()),
                os.path.join(out, "ckpt_dataparallel.pth"))
hostile = os.path.join(out, "ckpt_hostile")
os.makedirs(hostile, exist_ok=True)
cc.write_cases_list(cc.hostile_cases(hostile), os.path.join(hostile, "hostile.txt"))

import torch

from biogrn.core import Scratch


def test_a_name_is_one_buffer_reused_and_grown_on_demand():
    scratch = Scratch()
    a = scratch("x", 100, torch.float32, torch.device("cpu"))
    b = scratch("x", 60, torch.float32, torch.device("cpu"))
    assert a.numel() == 100 and b.numel() == 60 and b.data_ptr() == a.data_ptr()
    c = scratch("x", 200, torch.float32, torch.device("cpu"))  # larger: a new buffer, kept from now on
    assert c.numel() == 200 and scratch("x", 200, torch.float32, "cpu").data_ptr() == c.data_ptr()
    d = scratch("x", 10, torch.float64, "cpu")  # another dtype replaces it
    assert d.dtype == torch.float64
    e = scratch("y", 10, torch.float64, "cpu")
    assert e.data_ptr() != d.data_ptr()  # two names, two live buffers
    assert scratch.nbytes == 2 * 10 * 8


def test_a_scratch_that_does_not_hold_gives_fresh_tensors():
    scratch = Scratch(hold=False)
    a = scratch("x", 100, torch.float32, "cpu")
    assert a.numel() == 100 and scratch.nbytes == 0

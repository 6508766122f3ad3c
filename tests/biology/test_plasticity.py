"""Hebbian co-activity with homeostasis: as the gene drive, and as a learning rule."""

import torch
from torch import nn

from biogrn.biology import HebbianRule
from biogrn.regulation import HebbianRecorder


def test_homeostasis_moves_activity_toward_its_target():
    torch.manual_seed(0)
    for start_scale in (3.0, 0.05):  # far above, then far below the target
        layer = nn.Linear(20, 10)
        with torch.no_grad():
            layer.weight.copy_(torch.rand(10, 20) * start_scale / 10)
            layer.bias.zero_()
        recorder = HebbianRecorder([layer], target=0.5, rate=0.5)  # the threshold slides faster than w
        rule = HebbianRule(recorder, lr=0.01)
        x = torch.rand(64, 20)
        before = layer(x).clamp_min(0).mean().item()
        for _ in range(1000):
            layer(torch.rand(64, 20))
            rule.step()
        after = layer(x).clamp_min(0).mean().item()
        assert abs(after - 0.5) < 0.2 * abs(before - 0.5), (start_scale, before, after)

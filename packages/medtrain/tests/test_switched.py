"""One switch-and-restore for the CPU paths: every module gets its own forward back, whether the
block ends, raises, or a forward fails to build halfway through the switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from medtrain.switched import switched_forwards


def layers() -> list[torch.nn.Linear]:
    return [torch.nn.Linear(3, 3) for _ in range(3)]


def doubled(module: torch.nn.Linear) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: 2 * torch.nn.functional.linear(x, module.weight, module.bias)


def own(modules: list[torch.nn.Linear]) -> bool:
    return not any("forward" in vars(m) for m in modules)


def test_inside_the_block_each_module_runs_the_new_forward_and_after_it_its_own() -> None:
    modules, x = layers(), torch.randn(2, 3)
    before = [m(x) for m in modules]
    with switched_forwards(modules, doubled) as count:
        assert count == 3
        assert all(torch.allclose(m(x), 2 * b) for m, b in zip(modules, before, strict=True))
    assert own(modules)
    assert all(torch.equal(m(x), b) for m, b in zip(modules, before, strict=True))


def test_the_modules_come_back_after_an_exception_in_the_block() -> None:
    modules = layers()
    with pytest.raises(RuntimeError, match="interrupted"), switched_forwards(modules, doubled):
        raise RuntimeError("interrupted")
    assert own(modules)


def test_a_forward_failing_to_build_leaves_none_switched() -> None:
    modules = layers()

    def fails_on_the_last(module: torch.nn.Linear) -> Callable[[torch.Tensor], torch.Tensor]:
        if module is modules[-1]:
            raise ValueError("cannot switch this one")
        return doubled(module)

    with (
        pytest.raises(ValueError, match="cannot switch"),
        switched_forwards(modules, fails_on_the_last),
    ):
        pass
    assert own(modules)

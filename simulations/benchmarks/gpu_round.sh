#!/usr/bin/env bash
# Every GPU measurement the open issues ask for, in parts that each fit one call of the device
# tool (10 minutes a command, 30 minutes of device time a session; docs/benchmarks.md, "On a
# lent GPU"). The device image has CUDA PyTorch but not all of biogrn's dependencies, and cannot
# reach PyPI: the `wheels` part, run here first, fetches what it lacks into .whl/ (ignored by git),
# and every call carries that folder.
#
#   bash simulations/benchmarks/gpu_round.sh wheels        # here, once: .whl/, about 15 MB
#   device run, carry [".whl"], then one part per call:
#     bash simulations/benchmarks/gpu_round.sh step        # issue 13: step overhead, 67 M genes, host syncs, CUDA tests
#     bash simulations/benchmarks/gpu_round.sh size        # issue 13: overhead to 100 M+ connections, ResNet-18
#     bash simulations/benchmarks/gpu_round.sh grn         # issue 16: biogrn against GRiNS, toggle_solves
#     bash simulations/benchmarks/gpu_round.sh scale       # issues 14 and 17: NCCL, two ranks on CUDA, 2:4 speed
#
# The caps add up to about 28 minutes: run the parts in the order of the issues' priority (step,
# grn, scale, size) and read `status`'s budget_left_s before each.
#
# Each command's output goes to $OUT/<part>.log (runs/gpu_round/ when OUT is unset) as it runs,
# so a part cut off by its time limit still returns what it measured. A command that fails is
# logged with its exit status and the part goes on to the next.
set -uo pipefail

part=${1:?usage: gpu_round.sh wheels|step|size|grn|scale}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1

if [[ $part == wheels ]]; then
    # what the device image (Python 3.12, torch 2.11+cu130; docs/benchmarks.md) lacks of biogrn's
    # dependencies, and GRiNS for issue 16 with its pinned diffrax; installed there with no index
    rm -rf .whl && mkdir .whl
    python3 -m pip download --quiet --only-binary=:all: --no-deps --dest .whl \
        --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
        --platform any \
        "pydantic==2.14.4" "pydantic-core==2.50.5" "annotated-types>=0.6" "typing-inspection>=0.4" "typing-extensions>=4.14" \
        "netCDF4>=1.6" "cftime>=1.6" "mnist1d>=0.0.2" "grins==0.1.2" "diffrax==0.6.2" "typeguard==2.13.3" \
        || exit 1
    ls -l .whl && du -sh .whl
    exit 0
fi

out=${OUT:-$root/runs/gpu_round}
mkdir -p "$out"
log="$out/$part.log"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}  # the image's python3 holds CUDA PyTorch

run() {  # run SECONDS COMMAND...: log it, cap it, keep going
    local seconds=$1
    shift
    echo -e "\n\$ $*    # at most ${seconds} s" | tee -a "$log"
    timeout --signal=INT --kill-after=20 "$seconds" "$@" 2>&1 | tee -a "$log"
    local status=${PIPESTATUS[0]}
    ((status == 0)) || echo "FAILED: exit status $status" | tee -a "$log"
}

setup() {
    {
        date -u
        nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
        $python -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name())"
        git log --oneline -1 2>/dev/null
    } 2>&1 | tee -a "$log"
    if [[ -d .whl ]]; then
        $python -m pip install --quiet --no-index --find-links .whl pydantic netCDF4 mnist1d 2>&1 | tee -a "$log"
    fi
    $python -c "import biogrn; print('biogrn imports from', biogrn.__file__)" 2>&1 | tee -a "$log" || exit 1
}

case $part in
step)
    setup
    run 130 $python -m pytest -q -p no:cacheprovider -m "not slow" \
        tests/regulation/test_regulator.py::test_no_host_synchronisation_in_an_ordinary_step_nor_in_an_integration_step \
        tests/runs/test_trainer.py::test_cuda_run_resumes_identically tests/grn/test_grn.py::test_simulation_on_cuda_agrees_with_the_cpu \
        tests/policies/test_semistructured.py tests/integrations/test_semi_structured.py
    cd simulations/benchmarks || exit 1
    run 200 $python regulator_overhead.py --device cuda --repeats 30 --genes 2109440 67108864
    run 100 $python step_breakdown.py --device cuda --repeats 20
    ;;
size)
    setup
    cd simulations/benchmarks || exit 1
    # MLP 1024-w-w-10: 0.07 M, 2.1 M, 30.2 M and 102.0 M connections
    run 360 $python overhead_scaling.py --device cuda --repeats 10 --widths 64 1024 5000 9600 --resnet \
        --every 10 50 100 --record 1 10
    ;;
grn)
    setup
    if [[ -d .whl ]]; then
        # GRiNS pins diffrax < 0.7 and pyarrow < 20; the image's JAX, equinox and pyarrow are used as they are
        $python -m pip install --quiet --no-index --no-deps --find-links .whl grins "diffrax==0.6.2" "typeguard==2.13.3" \
            2>&1 | tee -a "$log"
    fi
    cd simulations/benchmarks || exit 1
    run 240 $python racipe_grins.py --network toggle --members 100000 1000000 --sample 100
    run 160 $python racipe_grins.py --network random --members 100000 --sample 50
    run 80 $python toggle_solves.py --device cuda --members 100000 1000000 --scipy-sample 100
    ;;
scale)
    setup
    config="$out/nccl_run.toml"
    cat >"$config" <<'TOML'
seed = 0
device = "cuda"
[data]
name = "digits"
[model]
hidden = [256, 128]
[training]
epochs = 6
[regulator]
integrate_every = 5
policy = "target"
target_sparsity = 0.8
start_epoch = 1
TOML
    run 120 torchrun --standalone --nproc-per-node 1 -m biogrn run "$config" --out "$out/nccl_run"
    # two ranks on the one GPU (gloo carries CUDA tensors; NCCL refuses two ranks on one GPU)
    run 120 $python -m pytest -q -p no:cacheprovider tests/regulation/test_distributed.py \
        tests/runs/test_distributed_runs.py::test_a_one_process_torchrun_run_joins_a_group_of_one_and_says_so
    cd simulations/benchmarks || exit 1
    run 90 $python distributed_traffic.py --backend nccl --ranks 1
    run 180 $python semi_structured_speed.py --widths 1024 4096 8192 --batches 64 1024 8192
    ;;
*)
    echo "gpu_round.sh: unknown part '$part' (wheels, step, size, grn or scale)" >&2
    exit 2
    ;;
esac
echo -e "\n# $part done; log: $log"

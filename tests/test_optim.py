"""minigrad.optim: each update against a NumPy transcription of its formula and against PyTorch,
exact resumption from a state dict, skipped parameters, bad hyper-parameters."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

STEPS = 20


# --- a small problem with a hand-written gradient ------------------------------
# loss(w) = 1/2 |A w - y|^2 + 1/4 sum(w^4):  grad = A^T (A w - y) + w^3

def problem(dtype=np.float64, seed=0):
    rs = np.random.default_rng(seed)
    A = rs.normal(size=(6, 4)).astype(dtype)
    y = rs.normal(size=6).astype(dtype)
    w0 = rs.normal(size=4).astype(dtype)
    return A, y, w0


def numpy_gradient(A, y, w):
    return A.T @ (A @ w - y) + w ** 3


def minigrad_trajectory(make_optimizer, A, y, w0, steps=STEPS):
    w = mg.tensor(w0, requires_grad=True)
    opt = make_optimizer([w])
    A_t, y_t = mg.tensor(A), mg.tensor(y)
    path = []
    for _ in range(steps):
        residual = A_t @ w - y_t
        loss = 0.5 * (residual * residual).sum() + 0.25 * (w ** 4).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.numpy().copy())
    return np.array(path)


def reference_trajectory(update, A, y, w0, steps=STEPS):
    """``update(w, g, state, t) -> new w`` applied with the analytic gradient."""
    w, state, path = w0.copy(), {}, []
    for t in range(1, steps + 1):
        w = update(w, numpy_gradient(A, y, w), state, t)
        path.append(w.copy())
    return np.array(path)


def sgd_reference(lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    def update(w, g, state, t):
        g = g + weight_decay * w
        if momentum:
            buf = g if t == 1 else momentum * state["buf"] + g
            state["buf"] = buf
            g = g + momentum * buf if nesterov else buf
        return w - lr * g
    return update


def rmsprop_reference(lr, rho, eps, momentum=0.0, centered=False, eps_inside_sqrt=False, initial_accumulator=0.0):
    def update(w, g, state, t):
        s = rho * state.get("s", np.full_like(w, initial_accumulator)) + (1 - rho) * g ** 2
        a = rho * state.get("a", np.zeros_like(w)) + (1 - rho) * g
        state["s"], state["a"] = s, a
        var = s - a ** 2 if centered else s
        d = np.sqrt(var + eps) if eps_inside_sqrt else np.sqrt(var) + eps
        if momentum:
            state["buf"] = momentum * state.get("buf", np.zeros_like(w)) + g / d
            return w - lr * state["buf"]
        return w - lr * g / d
    return update


def tf1_rmsprop_reference(lr, decay=0.9, momentum=0.0, eps=1e-10, centered=False):
    """tf.train.RMSPropOptimizer as TF1 documents it: ms starts at ones, mom and mg at zeros."""
    def update(w, g, state, t):
        ms = state.get("ms", np.ones_like(w))
        ms = decay * ms + (1 - decay) * g * g
        state["ms"] = ms
        if centered:
            mg_ = decay * state.get("mg", np.zeros_like(w)) + (1 - decay) * g
            state["mg"] = mg_
            denominator = np.sqrt(ms - mg_ * mg_ + eps)
        else:
            denominator = np.sqrt(ms + eps)
        mom = momentum * state.get("mom", np.zeros_like(w)) + lr * g / denominator
        state["mom"] = mom
        return w - mom
    return update


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    b1, b2 = betas

    def update(w, g, state, t):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        state["m"], state["v"] = m, v
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.02), sgd_reference(0.02)),
    "sgd-momentum": (lambda p: optim.SGD(p, lr=0.02, momentum=0.9), sgd_reference(0.02, 0.9)),
    "sgd-nesterov-decay": (lambda p: optim.SGD(p, lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.1),
                           sgd_reference(0.02, 0.8, True, 0.1)),
    "rmsprop-default": (lambda p: optim.RMSProp(p, lr=0.01), rmsprop_reference(0.01, 0.9, 1e-7)),
    "rmsprop-keras3": (lambda p: optim.RMSProp(p, lr=0.01, eps_inside_sqrt=True),
                       rmsprop_reference(0.01, 0.9, 1e-7, eps_inside_sqrt=True)),
    "rmsprop-centered-momentum": (lambda p: optim.RMSProp(p, lr=0.01, rho=0.8, momentum=0.5, centered=True),
                                  rmsprop_reference(0.01, 0.8, 1e-7, momentum=0.5, centered=True)),
    "rmsprop-tf1": (lambda p: optim.RMSProp.tf1(p, lr=0.05), tf1_rmsprop_reference(0.05)),
    "rmsprop-tf1-momentum-centered": (lambda p: optim.RMSProp.tf1(p, lr=0.05, momentum=0.9, centered=True),
                                      tf1_rmsprop_reference(0.05, momentum=0.9, centered=True)),
    "adam": (lambda p: optim.Adam(p, lr=0.05), adam_reference(0.05)),
    "adam-l2": (lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), weight_decay=0.1),
                adam_reference(0.05, (0.8, 0.99), weight_decay=0.1)),
    "adamw": (lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1, decoupled=True),
              adam_reference(0.05, weight_decay=0.1, decoupled=True)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_update_follows_its_formula(case):
    make, reference = CASES[case]
    A, y, w0 = problem()
    ours = minigrad_trajectory(make, A, y, w0)
    expected = reference_trajectory(reference, A, y, w0)
    assert np.abs(expected[-1] - w0).max() > 1e-3  # the problem moves the weights
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_tf1_mode_is_the_documented_settings():
    w = mg.tensor(np.zeros(2), requires_grad=True)
    opt = optim.RMSProp.tf1([w], lr=0.01)
    assert (opt.rho, opt.eps, opt.eps_inside_sqrt, opt.initial_accumulator, opt.momentum) == (0.9, 1e-10, True, 1.0, 0)


def test_eps_placement_changes_the_first_steps():
    A, y, w0 = problem()
    outside = minigrad_trajectory(lambda p: optim.RMSProp(p, lr=0.01, eps=1e-2), A, y, w0, steps=1)
    inside = minigrad_trajectory(lambda p: optim.RMSProp(p, lr=0.01, eps=1e-2, eps_inside_sqrt=True), A, y, w0,
                                 steps=1)
    assert not np.allclose(outside, inside, rtol=1e-4)


# --- PyTorch parity -------------------------------------------------------------

def torch_cases(torch):
    """minigrad optimizer factory and the torch.optim one that must give the same trajectory."""
    return {
        "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "sgd-momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        "sgd-nesterov": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
                         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        "adam": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        "adam-weight-decay": (lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05),
                              lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.05)),
        "adamw": (lambda p: optim.Adam(p, lr=0.01, weight_decay=0.05, decoupled=True),
                  lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.05)),
        "rmsprop-torch": (lambda p: optim.RMSProp(p, lr=0.01, rho=0.99, eps=1e-8),
                          lambda p: torch.optim.RMSprop(p, lr=0.01)),
        "rmsprop-torch-centered-momentum": (
            lambda p: optim.RMSProp(p, lr=0.01, rho=0.99, eps=1e-8, momentum=0.9, centered=True),
            lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True)),
    }


TORCH_CASE_NAMES = ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adam-weight-decay", "adamw", "rmsprop-torch",
                    "rmsprop-torch-centered-momentum"]


@pytest.mark.parametrize("case", TORCH_CASE_NAMES)
def test_trajectory_matches_pytorch(case, record_property):
    torch = pytest.importorskip("torch")
    make_ours, make_theirs = torch_cases(torch)[case]
    rs = np.random.default_rng(1)
    x, target = rs.normal(size=(8, 5)), rs.uniform(size=(8, 3))
    W0, b0 = rs.normal(size=(5, 3)), rs.normal(size=3)

    W, b = mg.tensor(W0, requires_grad=True), mg.tensor(b0, requires_grad=True)
    ours = make_ours([W, b])
    tW, tb = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    theirs = make_theirs([tW, tb])
    for _ in range(STEPS):
        prediction = mg.functional.sigmoid(mg.tensor(x) @ W + b)
        loss = ((prediction - mg.tensor(target)) ** 2).mean()
        ours.zero_grad()
        loss.backward()
        ours.step()

        t_loss = ((torch.sigmoid(torch.tensor(x) @ tW + tb) - torch.tensor(target)) ** 2).mean()
        theirs.zero_grad()
        t_loss.backward()
        theirs.step()
    assert np.abs(W.numpy() - W0).max() > 1e-3
    for ours_p, theirs_p in ((W, tW), (b, tb)):
        theirs_p = theirs_p.detach().numpy()
        error = np.abs(ours_p.numpy() - theirs_p).max() / np.abs(theirs_p).max()
        record_property("relative_error_vs_torch", ("float64", f"{case} after {STEPS} steps", float(error)))
        np.testing.assert_allclose(ours_p.numpy(), theirs_p, rtol=1e-10, atol=1e-12)


# --- resuming, skipping, dtypes, devices ----------------------------------------

def two_layer_problem(dtype=np.float32):
    rs = np.random.default_rng(2)
    x = mg.tensor(rs.normal(size=(16, 6)).astype(dtype))
    params = [rs.normal(size=(6, 4)).astype(dtype), rs.normal(size=4).astype(dtype),
              rs.normal(size=(4, 1)).astype(dtype)]
    return x, params


def train(opt, params, x, steps):
    for _ in range(steps):
        W1, b1, W2 = params
        loss = (mg.functional.tanh(x @ W1 + b1) @ W2).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


RESUMABLE = {
    "sgd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda p: optim.RMSProp(p, lr=0.01, momentum=0.5, centered=True),
    "rmsprop-tf1": lambda p: optim.RMSProp.tf1(p, lr=0.01),
    "adam": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.01),
}


@pytest.mark.parametrize("case", sorted(RESUMABLE))
def test_state_dict_round_trip_resumes_bit_for_bit(case, tmp_path):
    make = RESUMABLE[case]
    x, arrays = two_layer_problem()
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    opt = make(params)
    train(opt, params, x, 5)
    mg.save({"params": params, "optimizer": opt.state_dict()}, tmp_path / "ckpt.npz")
    train(opt, params, x, 5)  # the uninterrupted run

    saved = mg.load(tmp_path / "ckpt.npz")
    resumed = [mg.tensor(a, requires_grad=True) for a in saved["params"]]
    fresh = make(resumed)
    fresh.lr = 123.0  # overwritten by the saved hyper-parameters
    fresh.load_state_dict(saved["optimizer"])
    assert fresh.steps == 5 and fresh.lr == opt.lr
    train(fresh, resumed, x, 5)
    for a, b in zip(params, resumed):
        assert a.dtype == b.dtype == np.float32
        assert np.array_equal(a.numpy(), b.numpy())
    assert fresh.steps == opt.steps == 10


def trained_optimizer(make, steps):
    """The optimizer ``make(params)`` after ``steps`` steps on the two-layer problem, its parameters and input."""
    x, arrays = two_layer_problem()
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    opt = make(params)
    train(opt, params, x, steps)
    return opt, params, x


def test_state_dict_is_a_snapshot():
    opt, params, x = trained_optimizer(optim.Adam, 1)
    state = opt.state_dict()
    before = state["slots"][0]["exp_avg"].copy()
    train(opt, params, x, 1)
    assert np.array_equal(state["slots"][0]["exp_avg"], before)
    assert state["slots"][0]["step"] == 1 and opt.slots[0]["step"] == 2


def test_load_state_dict_lists_every_mismatch_and_changes_nothing():
    x, arrays = two_layer_problem()
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    opt = optim.Adam(params, lr=0.01)
    train(opt, params, x, 2)
    state = opt.state_dict()
    state["hyper"]["betas"] = (0.9, 1.5)
    state["slots"][0]["exp_avg"] = np.zeros((3, 3), np.float32)
    before = opt.state_dict()
    with pytest.raises(ValueError, match="beta2") as error:
        opt.load_state_dict(state)
    state["hyper"]["betas"] = (0.9, 0.999)
    with pytest.raises(ValueError, match=r"slots\[0\]\['exp_avg'\]: has shape \(3, 3\)"):
        opt.load_state_dict(state)
    assert "Adam.load_state_dict" in str(error.value)
    with pytest.raises(ValueError, match="saved by SGD"):
        opt.load_state_dict(optim.SGD(params, lr=0.1).state_dict())
    with pytest.raises(ValueError, match="slots for 2 parameters"):
        opt.load_state_dict(optim.Adam(params[:2]).state_dict())
    after = opt.state_dict()
    assert after["hyper"] == before["hyper"]
    assert all(np.array_equal(a["exp_avg"], b["exp_avg"]) for a, b in zip(after["slots"], before["slots"]))


def set_hyper(name, value):
    def corrupt(state):
        state["hyper"][name] = value
    return corrupt


def set_slot(index, name, value):
    def corrupt(state):
        state["slots"][index][name] = value
    return corrupt


def set_entry(name, value):
    def corrupt(state):
        state[name] = value
    return corrupt


def scale_slot(index, name, factor, dtype=np.float32):
    def corrupt(state):
        state["slots"][index][name] = state["slots"][index][name].astype(dtype) * np.array(factor, dtype)
    return corrupt


# (optimizer, how the saved state is spoiled, what the error must say): each of these used to load and then
# raise ZeroDivisionError or a math domain error at the next step, turn the parameters into NaN or inf, or
# crash inside load_state_dict itself
CORRUPT_STATES = {
    "inf lr": ("adam", set_hyper("lr", math.inf), r"'hyper': Adam: lr must be a finite number >= 0, got inf"),
    "nan eps": ("rmsprop", set_hyper("eps", math.nan), r"'hyper': RMSProp: eps must be a finite number"),
    "lr as a string": ("sgd", set_hyper("lr", "1.5"), r"'hyper': SGD: lr must be a finite number >= 0, got '1.5'"),
    "a string for a flag": ("sgd", set_hyper("nesterov", "False"), r"nesterov must be True or False, got 'False'"),
    "hyper not a dict": ("adam", set_entry("hyper", [0.001]), r"'hyper': expected a dict of hyper-parameters"),
    "negative step count": ("adam", set_entry("steps", -1), r"'steps': expected a count of steps \(an int >= 0\)"),
    "fractional step count": ("sgd", set_entry("steps", 2.5), r"'steps': expected a count"),
    "adam's step -1": ("adam", set_slot(1, "step", -1), r"slots\[1\]\['step'\]: expected a count of steps"),
    "adam's step as a string": ("adam", set_slot(0, "step", "2"), r"slots\[0\]\['step'\]: expected a count"),
    "negative second moment": ("adam", scale_slot(0, "exp_avg_sq", -1.0),
                               r"slots\[0\]\['exp_avg_sq'\]: holds negative values .* never below 0"),
    "negative accumulator": ("rmsprop", scale_slot(2, "square_avg", -1.0), r"slots\[2\]\['square_avg'\]: holds negative"),
    "slots of None": ("adam", set_entry("slots", [None, None, None]), r"slots\[0\]: expected a dict of slots"),
    "slots not a list": ("adam", set_entry("slots", {"0": {}}), r"'slots': expected a list with a dict per parameter"),
    "nan moment": ("adam", scale_slot(0, "exp_avg", math.nan), r"slots\[0\]\['exp_avg'\]: holds NaN or infinite"),
    "beyond float32": ("sgd", scale_slot(0, "momentum_buffer", 1e40, np.float64),
                       r"slots\[0\]\['momentum_buffer'\]: holds values up to .*e\+(39|40), beyond the range of the "
                       r"parameter's float32"),
    "int slot": ("sgd", scale_slot(0, "momentum_buffer", 1, np.int64), r"expected floating-point values, got dtype int64"),
    "complex slot": ("adam", scale_slot(1, "exp_avg", 1, np.complex64), r"got dtype complex64"),
    "bool slot": ("rmsprop", scale_slot(0, "square_avg", 1, bool), r"got dtype bool"),
    "string slot": ("adam", set_slot(0, "exp_avg", np.array([["1.5"] * 4] * 6)), r"got dtype <U3"),
    "list slot": ("adam", set_slot(2, "exp_avg", [[0.0]] * 4), r"slots\[2\]\['exp_avg'\]: expected a NumPy array, "
                                                                r"got list"),
    "wrong shape": ("rmsprop", set_slot(1, "square_avg", np.zeros(5, np.float32)),
                    r"slots\[1\]\['square_avg'\]: has shape \(5,\), the parameter has shape \(4,\)"),
}
OPTIMIZERS = {"sgd": RESUMABLE["sgd"], "rmsprop": RESUMABLE["rmsprop"], "adam": RESUMABLE["adam"]}


@pytest.mark.parametrize("case", sorted(CORRUPT_STATES))
def test_a_corrupt_state_is_refused_naming_the_key_and_leaves_the_optimizer_untouched(case, tmp_path):
    kind, corrupt, message = CORRUPT_STATES[case]
    opt, _, _ = trained_optimizer(OPTIMIZERS[kind], 3)
    mg.save(opt.state_dict(), tmp_path / "optimizer.npz")
    state = mg.load(tmp_path / "optimizer.npz")   # as a checkpoint brings it back
    corrupt(state)
    before = opt.state_dict()
    slots_before = opt.slots

    with pytest.raises(ValueError, match=message) as error:
        opt.load_state_dict(state)
    assert str(error.value).startswith(f"{type(opt).__name__}.load_state_dict: the state does not fit")

    after = opt.state_dict()
    assert opt.slots is slots_before
    assert (after["hyper"], after["steps"]) == (before["hyper"], before["steps"])
    for saved, kept in zip(before["slots"], after["slots"]):
        assert saved.keys() == kept.keys()
        assert all(np.array_equal(saved[key], kept[key]) for key in saved)


def test_every_problem_of_a_state_is_in_the_one_error():
    opt, _, _ = trained_optimizer(optim.Adam, 2)
    state = opt.state_dict()
    for corrupt in (set_entry("steps", -1), set_slot(0, "step", "x"), scale_slot(2, "exp_avg_sq", -1.0)):
        corrupt(state)
    with pytest.raises(ValueError) as error:
        opt.load_state_dict(state)
    lines = str(error.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["'steps'", "slots[0]['step']", "slots[2]['exp_avg_sq']"]


def test_a_state_through_save_and_load_passes_the_checks_in_every_variant(tmp_path):
    x, arrays = two_layer_problem()
    variants = [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.SGD(p, lr=0.1, momentum=0.5, nesterov=True),
                lambda p: optim.RMSProp(p, centered=True, momentum=0.9, eps_inside_sqrt=True),
                lambda p: optim.RMSProp.tf1(p), lambda p: optim.Adam(p, weight_decay=0.1, decoupled=True)]
    for make in variants:
        params = [mg.tensor(a, requires_grad=True) for a in arrays]
        opt = make(params)
        train(opt, params, x, 2)
        mg.save(opt.state_dict(), tmp_path / "optimizer.npz")
        make(params).load_state_dict(mg.load(tmp_path / "optimizer.npz"))


def test_parameters_without_grad_are_skipped():
    used = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    unused = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    for opt in (optim.SGD([used, unused], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.RMSProp([used, unused], weight_decay=0.1), optim.Adam([used, unused], weight_decay=0.1)):
        for _ in range(3):
            opt.zero_grad()
            (used * used).sum().backward()
            assert unused.grad is None
            opt.step()
        assert np.array_equal(unused.numpy(), np.ones(3, np.float32))
        assert opt.slots[1] == {} and opt.slots[0]
    assert opt.slots[0]["step"] == 3


def test_adam_counts_each_parameters_own_updates():
    a = mg.tensor(np.ones(2), requires_grad=True)
    b = mg.tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    opt.zero_grad()
    (a * b).sum().backward()
    opt.step()
    assert (opt.slots[0]["step"], opt.slots[1]["step"], opt.steps) == (2, 1, 2)
    # b's only update was a first Adam step, which moves by lr against the gradient's sign (up to eps)
    np.testing.assert_allclose(b.numpy(), [0.9, 0.9], rtol=1e-6)


def test_zero_grad_sets_none():
    w = mg.tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("case", sorted(RESUMABLE))
def test_float32_stays_float32(case):
    x, arrays = two_layer_problem()
    params = [mg.tensor(a, requires_grad=True) for a in arrays]
    opt = RESUMABLE[case](params)
    opt.lr = float(np.float64(opt.lr))
    train(opt, params, x, 2)
    assert all(p.dtype == np.float32 for p in params)
    assert all(v.dtype == np.float32 for slots in opt.slots for k, v in slots.items() if k != "step")


def test_numpy_scalar_hyper_parameters_become_python_floats():
    w = mg.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.Adam([w], lr=np.float64(0.1), betas=(np.float32(0.9), 0.999))
    assert type(opt.lr) is float and all(type(b) is float for b in opt.betas)


@pytest.mark.parametrize("case", sorted(RESUMABLE))
def test_updates_run_on_the_gpu_array_module(case, gpu):
    x, arrays = two_layer_problem()
    on_cpu = [mg.tensor(a, requires_grad=True) for a in arrays]
    train(RESUMABLE[case](on_cpu), on_cpu, x, 3)
    params = [mg.tensor(a, requires_grad=True, device="cuda") for a in arrays]
    opt = RESUMABLE[case](params)
    train(opt, params, x.to("cuda"), 3)
    for p, expected in zip(params, on_cpu):
        assert p.device == "cuda"
        np.testing.assert_allclose(p.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    state = opt.state_dict()
    assert all(isinstance(v, (np.ndarray, int)) for s in state["slots"] for v in s.values())
    fresh = RESUMABLE[case](params)
    fresh.load_state_dict(state)
    assert all(isinstance(v, gpu.ndarray) for s in fresh.slots for k, v in s.items() if k != "step")


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: lr must be a finite number >= 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "SGD: momentum"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov=True needs a momentum"),
    (lambda p: optim.Adam(p, lr=-1e-3), "Adam: lr"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam: beta1 must lie in \[0, 1\)"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Adam: beta2"),
    (lambda p: optim.Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: optim.Adam(p, eps=-1.0), "Adam: eps"),
    (lambda p: optim.RMSProp(p, rho=1.0), "RMSProp: rho"),
    (lambda p: optim.RMSProp(p, lr="fast"), "RMSProp: lr"),
    (lambda p: optim.RMSProp(p, initial_accumulator=-1.0), "initial_accumulator"),
    (lambda p: optim.Adam(p, lr=math.inf), "Adam: lr must be a finite number >= 0, got inf"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov="yes"), "SGD: nesterov must be True or False, got 'yes'"),
    (lambda p: optim.RMSProp(p, centered=1), "RMSProp: centered must be True or False, got 1"),
])
def test_bad_hyper_parameters_raise(make, message):
    w = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        make([w])


def test_bad_parameter_lists_raise():
    w = mg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(w)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        optim.Adam([w, np.ones(2)])
    with pytest.raises(ValueError, match="parameter 1 appears more than once"):
        optim.Adam([w, w])
    with pytest.raises(ValueError, match="not a leaf"):
        optim.Adam([w * 2])


def test_generators_are_accepted():
    params = [mg.tensor(np.ones(2), requires_grad=True) for _ in range(3)]
    opt = optim.SGD((p for p in params), lr=0.1)
    assert len(opt.params) == 3
    assert math.isclose(opt.lr, 0.1)


class TwoLayer(nn.Module):
    def __init__(self, arrays):
        super().__init__()
        self.W1, self.b1, self.W2 = (nn.Parameter(a) for a in arrays)


@pytest.mark.parametrize("case", sorted(RESUMABLE))
def test_slots_follow_a_model_moved_to_the_gpu_between_steps(case, gpu):
    x, arrays = two_layer_problem()
    on_cpu = [mg.tensor(a, requires_grad=True) for a in arrays]
    train(RESUMABLE[case](on_cpu), on_cpu, x, 4)
    model = TwoLayer(arrays)
    params = [model.W1, model.b1, model.W2]
    opt = RESUMABLE[case](params)
    train(opt, params, x, 2)
    model.to("cuda")
    train(opt, params, x.to("cuda"), 2)
    assert all(isinstance(v, gpu.ndarray) for s in opt.slots for k, v in s.items() if k != "step")
    for p, expected in zip(params, on_cpu):
        assert p.device == "cuda"
        np.testing.assert_allclose(p.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)

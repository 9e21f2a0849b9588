"""minigrad.nn: layers' derivatives and PyTorch parity, Module mechanics, state dicts, initialisers, errors."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.ops.conv import int_pair

# --- configurations ---------------------------------------------------------------------------------------------

small = st.integers(1, 4)
conv_padding = st.integers(0, 2) | st.tuples(st.integers(0, 2), st.integers(0, 2)) | st.sampled_from(["same", "valid"])


@st.composite
def layer_configs(draw):
    """(layer, input shape) for a randomly drawn layer of every kind that has parameters."""
    kind = draw(st.sampled_from(["Dense", "Conv2D", "ConvTranspose2D", "BatchNorm1D", "BatchNorm2D"]))
    n, cin, cout = draw(st.integers(1, 3)), draw(small), draw(small)
    bias = draw(st.booleans())
    if kind == "Dense":
        return nn.Dense(cin, cout, bias=bias), (n, cin)
    kernel, stride = (draw(small), draw(small)), (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if kind == "Conv2D":
        padding = draw(conv_padding)
        pads = (0, 0) if isinstance(padding, str) else int_pair("test", "padding", padding)
        size = tuple(draw(st.integers(max(1, k - 2 * p), 9)) for k, p in zip(kernel, pads))
        return nn.Conv2D(cin, cout, kernel, stride, padding, bias), (n, cin) + size
    if kind == "ConvTranspose2D":
        size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
        if draw(st.booleans()):
            return nn.ConvTranspose2D(cin, cout, kernel, stride, "same", bias=bias), (n, cin) + size
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
        assume(all((h - 1) * s + k - 2 * p + o >= 1
                   for h, s, k, p, o in zip(size, stride, kernel, padding, output_padding)))
        return nn.ConvTranspose2D(cin, cout, kernel, stride, padding, output_padding, bias), (n, cin) + size
    n = draw(st.integers(2, 3))  # batch statistics need two values per channel
    if kind == "BatchNorm1D":
        return nn.BatchNorm1D(cin), (n, cin) + draw(st.sampled_from([(), (3,)]))
    return nn.BatchNorm2D(cin), (n, cin, draw(st.integers(1, 4)), draw(st.integers(1, 4)))


def randomise(layer, rng):
    """Move BatchNorm's parameters and statistics off their 1/0 starts so every term is exercised."""
    if isinstance(layer, (nn.BatchNorm1D, nn.BatchNorm2D)):
        for tensor, low in ((layer.weight, 0.5), (layer.bias, -1.0), (layer.running_mean, -1.0),
                            (layer.running_var, 0.5)):
            tensor.data = rng.uniform(low, 1.5, tensor.shape).astype(tensor.dtype)
    return layer


# --- first and second derivatives of every layer ----------------------------------------------------------------


@settings(max_examples=25)
@given(config=layer_configs(), training=st.booleans(), seed=st.integers(0, 2**16))
def test_every_layer_passes_gradcheck_and_gradgradcheck(config, training, seed):
    layer, shape = config
    rng = np.random.default_rng(seed)
    layer = randomise(layer.double(), rng).train(training)
    x = mg.tensor(rng.uniform(-1, 1, shape), requires_grad=True)
    inputs = [x] + layer.parameters()
    saved = {name: t.data.copy() for name, t in layer.named_buffers()}

    def fn(x, *params):
        for name, data in saved.items():  # each evaluation starts from the same running statistics
            getattr(layer, name).data = data.copy()
        return layer(x)

    assert mg.gradcheck(fn, inputs, full_check_limit=300)
    assert mg.gradgradcheck(fn, inputs, full_check_limit=60)


ELEMENTWISE = [nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.Flatten(), nn.Reshape(-1, 2),
               nn.Dropout(0.0)]


@pytest.mark.parametrize("layer", ELEMENTWISE, ids=repr)
def test_parameterless_layers_pass_gradcheck_and_gradgradcheck(layer):
    x = mg.tensor(np.random.default_rng(0).choice([-1, 1], (3, 2, 2)) * np.linspace(0.1, 2, 12).reshape(3, 2, 2),
                  requires_grad=True)  # away from relu's kink at 0
    assert mg.gradcheck(layer, [x]) and mg.gradgradcheck(layer, [x])


def test_dropout_with_a_fixed_mask_passes_gradcheck():
    layer = nn.Dropout(0.4)
    x = mg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)

    def fn(x):
        mg.manual_seed(3)  # the same mask at every evaluation
        return layer(x)

    assert mg.gradcheck(fn, [x]) and mg.gradgradcheck(fn, [x])


def import_torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # tiny ops: a second thread only adds synchronisation (tens of ms per op on a busy machine)
    return torch


# --- PyTorch parity -------------------------------------------------------------------------------------------


def torch_twin(torch, layer):
    """The PyTorch layer with this layer's values (Dense's weight is transposed: torch keeps (out, in))."""
    tnn = torch.nn
    if isinstance(layer, nn.Dense):
        twin = tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    elif isinstance(layer, nn.Conv2D):
        pads = layer.padding
        twin = tnn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                          0 if pads == "same" else pads, bias=layer.bias is not None)
    elif isinstance(layer, nn.ConvTranspose2D):
        padding, output_padding = layer.padding, layer.output_padding
        if padding == "same":  # output H * stride: pad (k - s) / 2 per side, or add the s - k missing rows
            padding = tuple(max(k - s, 0) // 2 for k, s in zip(layer.kernel_size, layer.stride))
            output_padding = tuple(max(s - k, 0) for k, s in zip(layer.kernel_size, layer.stride))
        twin = tnn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                                   padding, output_padding, bias=layer.bias is not None)
    else:
        twin = (tnn.BatchNorm1d if isinstance(layer, nn.BatchNorm1D) else tnn.BatchNorm2d)(layer.num_features)
    twin = twin.double()
    state = {name: torch.tensor(value.numpy().T if isinstance(layer, nn.Dense) and name == "weight"
                                else value.numpy()) for name, value in layer.state_dict().items()}
    twin.load_state_dict(state, strict=False)
    return twin


def record(record_property, what, ours, theirs):
    theirs = theirs.detach().numpy()
    error = float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30))
    record_property("relative_error_vs_torch", (str(theirs.dtype), what, error))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9 * np.abs(theirs).max())


parity_settings = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])


@parity_settings
@given(config=layer_configs(), seed=st.integers(0, 2**16))
def test_every_layer_matches_pytorch(config, seed, record_property):
    """Output and input/parameter gradients over three training steps (BatchNorm: with its running
    statistics), then the evaluation output."""
    torch = import_torch()
    layer, shape = config
    if isinstance(layer, nn.Conv2D) and layer.padding == "same":  # PyTorch's 'same' is symmetric
        assume(layer.stride == (1, 1) and all(k % 2 for k in layer.kernel_size))
    if isinstance(layer, nn.ConvTranspose2D) and layer.padding == "same":  # (the asymmetric case: test_conv.py)
        assume(all(max(k - s, 0) % 2 == 0 for k, s in zip(layer.kernel_size, layer.stride)))
    rng = np.random.default_rng(seed)
    layer = randomise(layer.double(), rng)
    twin = torch_twin(torch, layer)
    if isinstance(layer, nn.Conv2D) and layer.padding == "same":
        twin.padding = tuple(k // 2 for k in layer.kernel_size)
    name = repr(layer)
    for step in range(3):
        x_values, g = rng.uniform(-1, 1, shape), None
        x, tx = mg.tensor(x_values, requires_grad=True), torch.tensor(x_values, requires_grad=True)
        y, ty = layer(x), twin(tx)
        g = rng.normal(size=y.shape)
        layer.zero_grad()
        twin.zero_grad()
        y.backward(mg.tensor(g))
        ty.backward(torch.tensor(g))
        record(record_property, f"{name} output", y.numpy(), ty)
        record(record_property, f"{name} input gradient", x.grad.numpy(), tx.grad)
        for (pname, p), tp in zip(layer.named_parameters(), twin.parameters()):
            ours = p.grad.numpy().T if isinstance(layer, nn.Dense) and pname == "weight" else p.grad.numpy()
            record(record_property, f"{name} {pname} gradient", ours, tp.grad)
        for bname, buffer in layer.named_buffers():
            record(record_property, f"{name} {bname} after step {step}", buffer.numpy(), getattr(twin, bname))
    layer.eval()
    twin.eval()
    x_values = rng.uniform(-1, 1, shape)
    record(record_property, f"{name} eval output", layer(mg.tensor(x_values)).numpy(), twin(torch.tensor(x_values)))


def test_state_dict_names_are_pytorchs(record_property):
    torch = import_torch()
    ours = nn.Sequential(nn.Conv2D(1, 4, 3), nn.BatchNorm2D(4), nn.ReLU(), nn.Flatten(), nn.Dense(4 * 6 * 6, 2))
    tnn = torch.nn
    theirs = tnn.Sequential(tnn.Conv2d(1, 4, 3), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.Flatten(), tnn.Linear(144, 2))
    expected = [k for k in theirs.state_dict() if not k.endswith("num_batches_tracked")]
    assert list(ours.state_dict()) == expected
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_default_initialisation_is_pytorchs():
    """Weight and bias uniform in +-1/sqrt(fan_in), with fan_in counted as PyTorch counts it for its layer."""
    torch = import_torch()
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans
    tnn = torch.nn
    mg.manual_seed(0)
    pairs = [(nn.Dense(300, 200), tnn.Linear(300, 200)), (nn.Conv2D(16, 32, (3, 5)), tnn.Conv2d(16, 32, (3, 5))),
             (nn.ConvTranspose2D(32, 8, 4), tnn.ConvTranspose2d(32, 8, 4))]
    for ours, theirs in pairs:
        bound = 1 / math.sqrt(torch_fans(theirs.weight)[0])
        weight, bias = ours.weight.numpy(), ours.bias.numpy()
        assert weight.dtype == bias.dtype == np.float32
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        assert np.abs(weight).max() > 0.99 * bound and np.abs(bias).max() > 0.5 * bound
        assert abs(weight.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)


def test_fans_count_kernel_taps_as_pytorch_does():
    torch = import_torch()
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans
    for shape in [(5, 3, 2, 4), (3, 5, 4, 4), (6, 2, 1, 1)]:
        assert nn.init.fans(mg.zeros(*shape)) == torch_fans(torch.zeros(shape))
    assert nn.init.fans(mg.zeros(7, 3)) == torch_fans(torch.zeros(3, 7))  # Dense is (in, out), torch (out, in)


# --- initialisers ------------------------------------------------------------------------------------------------

N = 200_000  # samples: standard errors of about 0.2%


def filled(fn, shape=(400, 500), **kwargs):
    return fn(mg.zeros(*shape), **kwargs).numpy()


@pytest.mark.parametrize("name, fn, kwargs, low, high, std", [
    ("uniform", nn.init.uniform_, dict(a=-2.0, b=3.0), -2.0, 3.0, 5 / math.sqrt(12)),
    ("normal", nn.init.normal_, dict(mean=1.0, std=0.5), None, None, 0.5),
    ("xavier_uniform", nn.init.xavier_uniform_, {}, -math.sqrt(6 / 900), math.sqrt(6 / 900), math.sqrt(2 / 900)),
    ("glorot_uniform gain 2", nn.init.glorot_uniform_, dict(gain=2.0), -2 * math.sqrt(6 / 900),
     2 * math.sqrt(6 / 900), 2 * math.sqrt(2 / 900)),
    ("xavier_normal", nn.init.xavier_normal_, {}, None, None, math.sqrt(2 / 900)),
    ("kaiming_uniform", nn.init.kaiming_uniform_, {}, -math.sqrt(6 / 400), math.sqrt(6 / 400), math.sqrt(2 / 400)),
    ("he_normal fan_out", nn.init.he_normal_, dict(mode="fan_out"), None, None, math.sqrt(2 / 500)),
    ("kaiming_uniform a=sqrt(5)", nn.init.kaiming_uniform_, dict(a=math.sqrt(5)), -1 / 20, 1 / 20,
     1 / 20 / math.sqrt(3)),
])
def test_initialisers_draw_the_documented_distribution(name, fn, kwargs, low, high, std):
    values = filled(fn, **kwargs)
    assert values.dtype == np.float32
    if low is not None:
        assert low <= values.min() and values.max() <= high
        assert values.min() < low + 0.01 * (high - low) and values.max() > high - 0.01 * (high - low)
        assert abs(values.mean() - (low + high) / 2) < 0.01 * (high - low)
    assert abs(values.std() - std) < 0.01 * std


def test_constant_initialisers_and_seeded_draws():
    assert (filled(nn.init.zeros_) == 0).all() and (filled(nn.init.ones_) == 1).all()
    assert (filled(nn.init.constant_, value=0.25) == np.float32(0.25)).all()
    mg.manual_seed(11)
    first = nn.Dense(20, 30)
    mg.manual_seed(11)
    second = nn.Dense(20, 30)
    assert np.array_equal(first.weight.numpy(), second.weight.numpy())
    assert not np.array_equal(first.weight.numpy(), nn.Dense(20, 30).weight.numpy())


def test_calculate_gain_and_bad_arguments():
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    with pytest.raises(ValueError, match="unknown nonlinearity 'selu'"):
        nn.init.calculate_gain("selu")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(5))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(mg.zeros(2, 2), mode="fan_avg")


# --- Module mechanics -------------------------------------------------------------------------------------------


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Dense(6, 4), nn.ReLU(), nn.Dense(4, 2), nn.BatchNorm1D(2))
        self.decoder = nn.Sequential(nn.Dense(2, 6), nn.Sigmoid())
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        return self.decoder(self.encoder(x)) * self.scale


class NoSuperInit(nn.Module):
    def __init__(self):
        self.blocks = [nn.Dense(3, 3), nn.Dense(3, 1)]  # a plain list of modules is walked too

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def test_parameters_buffers_and_children_are_found_with_pytorch_names():
    model = AutoEncoder()
    assert [n for n, _ in model.named_parameters()] == [
        "scale", "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "encoder.3.weight",
        "encoder.3.bias", "decoder.0.weight", "decoder.0.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert [n for n, _ in model.named_buffers()] == ["encoder.3.running_mean", "encoder.3.running_var"]
    assert [n for n, _ in model.named_children()] == ["encoder", "decoder"]
    assert list(model.state_dict())[:3] == ["scale", "encoder.0.weight", "encoder.0.bias"]
    assert len(model.state_dict()) == 11
    plain = NoSuperInit()
    assert [n for n, _ in plain.named_parameters()] == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                                                        "blocks.1.bias"]
    assert plain.training and plain(mg.ones(2, 3)).shape == (2, 1)


def test_a_shared_layer_is_listed_once():
    shared = nn.Dense(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(model.parameters()) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_zero_grad_and_sequential_access():
    model = AutoEncoder()
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(mg.rand(5, 6)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    seq = model.encoder
    assert len(seq) == 4 and seq[-1] is seq[3] and list(seq)[1] is seq[1]
    assert isinstance(seq[1:3], nn.Sequential) and len(seq[1:3]) == 2 and seq[1:3][0] is seq[1]
    with pytest.raises(TypeError, match="layer 1 is a function, not a Module"):
        nn.Sequential(nn.Dense(2, 2), mg.functional.relu)


def test_repr_shows_the_architecture():
    model = nn.Sequential(nn.Conv2D(1, 16, 3, stride=2, padding="same"), nn.LeakyReLU(0.2),
                          nn.ConvTranspose2D(16, 8, (4, 3), stride=2, padding=1, output_padding=(1, 0), bias=False),
                          nn.BatchNorm2D(8), nn.Flatten(), nn.Dense(8, 2), nn.Dropout(0.3), nn.Reshape(2, 1))
    assert repr(model) == """Sequential(
  (0): Conv2D(1->16, 3x3, stride=2, padding='same')
  (1): LeakyReLU(0.2)
  (2): ConvTranspose2D(16->8, 4x3, stride=2, padding=1, output_padding=(1, 0), bias=False)
  (3): BatchNorm2D(8)
  (4): Flatten()
  (5): Dense(8->2)
  (6): Dropout(p=0.3)
  (7): Reshape(2, 1)
)"""
    assert repr(AutoEncoder()).startswith("AutoEncoder(\n  (encoder): Sequential(\n    (0): Dense(6->4)\n")


# --- state dicts ---------------------------------------------------------------------------------------------------


def test_state_dict_round_trips_through_save_and_load(tmp_path):
    model = AutoEncoder()
    model(mg.rand(8, 6))  # moves the running statistics
    mg.save(model.state_dict(), tmp_path / "model.npz")
    other = AutoEncoder()
    other.load_state_dict(mg.load(tmp_path / "model.npz"))
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
        assert b.dtype == np.float32
    x = mg.rand(4, 6)
    model.eval(), other.eval()
    assert np.array_equal(model(x).numpy(), other(x).numpy())


def test_loading_copies_values_and_converts_dtype():
    model = nn.Dense(2, 3)
    state = {"weight": np.arange(6.0).reshape(2, 3), "bias": mg.tensor([1.0, 2.0, 3.0])}
    parameter = model.weight
    model.load_state_dict(state)
    assert model.weight is parameter and model.weight.dtype == np.float32  # same Parameter: optimisers keep it
    state["weight"][0, 0] = 100.0
    assert model.weight.numpy()[0, 0] == 0.0
    assert model.bias.tolist() == [1.0, 2.0, 3.0]


def test_a_state_that_does_not_fit_names_every_problem_and_changes_nothing():
    model = nn.Sequential(nn.Dense(4, 3), nn.BatchNorm1D(3))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: v.numpy() for k, v in nn.Sequential(nn.Dense(5, 3), nn.BatchNorm1D(3)).state_dict().items()}
    del state["1.running_var"]
    state["2.weight"] = np.ones(3)
    state["1.bias"] = np.ones(3)
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "Sequential.load_state_dict" in message
    assert "missing keys: 1.running_var" in message and "unexpected keys: 2.weight" in message
    assert "wrong shapes: 0.weight (checkpoint (5, 3), model (4, 3))" in message
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="wrong shapes: 0.weight") as error:
        model.load_state_dict(state, strict=False)  # tolerates the keys, never a wrong shape
    assert "missing" not in str(error.value)
    del state["0.weight"]
    model.load_state_dict(state, strict=False)
    assert model[1].bias.tolist() == [1.0, 1.0, 1.0]


def test_to_moves_parameters_buffers_and_gradients_and_load_follows_the_device(gpu):
    model = nn.Sequential(nn.Conv2D(1, 2, 3, padding=1), nn.BatchNorm2D(2), nn.Flatten(), nn.Dense(2 * 4 * 4, 1))
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    model(mg.rand(2, 1, 4, 4)).sum().backward()
    assert model.to("cuda") is model
    assert all(t.device == "cuda" for t in model.parameters() + model.buffers())
    assert all(p.grad.device == "cuda" for p in model.parameters())
    model.load_state_dict(state)
    assert all(t.device == "cuda" for t in model.parameters() + model.buffers())
    y = model(mg.rand(2, 1, 4, 4, device="cuda"))
    y.sum().backward()
    assert y.device == "cuda" and model[0].weight.grad.device == "cuda"
    model.to("cpu")
    assert all(t.device == "cpu" for t in model.parameters() + model.buffers())


def test_new_layers_follow_the_default_device(gpu):
    mg.set_default_device("cuda")
    layer = nn.BatchNorm2D(3)
    assert all(t.device == "cuda" for t in layer.parameters() + layer.buffers())


# --- layer behaviour -------------------------------------------------------------------------------------------------


def test_batchnorm_needs_two_values_per_channel_to_train_and_uses_running_stats_in_eval():
    layer = nn.BatchNorm1D(3)
    with pytest.raises(ValueError, match=r"BatchNorm1D\(3\): training needs more than one value per channel"):
        layer(mg.ones(1, 3))
    assert layer.running_mean.tolist() == [0.0, 0.0, 0.0]
    layer.eval()
    assert np.allclose(layer(mg.ones(1, 3)).numpy(), 1 / math.sqrt(1 + 1e-5))


def test_dropout_drops_in_training_only_and_keeps_the_expectation():
    layer = nn.Dropout(0.25)
    y = layer(mg.ones(400, 500)).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.005 and abs(y.mean() - 1) < 0.01
    layer.eval()
    assert (layer(mg.ones(4, 5)).numpy() == 1).all()


def test_flatten_and_reshape_keep_the_batch_dimension():
    x = mg.tensor(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12) and nn.Reshape(4, 3)(x).shape == (2, 4, 3)
    assert nn.Reshape((6, -1))(x).shape == (2, 6, 2)
    assert np.array_equal(nn.Reshape(12)(x).numpy(), x.numpy().reshape(2, 12))
    # a conv output (batch-innermost in memory) flattens in NCHW order
    conv = nn.Conv2D(1, 3, 1, bias=False)
    nn.init.ones_(conv.weight)
    image = mg.tensor(np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2))
    assert np.array_equal(nn.Flatten()(conv(image)).numpy(), np.repeat(image.numpy(), 3, axis=1).reshape(2, 12))


def test_a_float32_model_stays_float32_forward_and_backward():
    seen = []
    original = mg.Function.__call__

    def spy(self, *inputs):
        out = original(self, *inputs)
        seen.append((self.name, out.dtype))
        return out

    G = nn.Sequential(nn.Dense(8, 4 * 7 * 7), nn.Reshape(4, 7, 7), nn.BatchNorm2D(4), nn.ReLU(),
                      nn.ConvTranspose2D(4, 2, 4, 2, 1), nn.BatchNorm2D(2), nn.LeakyReLU(0.2),
                      nn.ConvTranspose2D(2, 1, 3, 2, "same"), nn.Tanh())
    D = nn.Sequential(nn.Conv2D(1, 2, 4, 2, 1), nn.Softplus(), nn.Conv2D(2, 4, 3, 2, "same"), nn.Sigmoid(),
                      nn.Flatten(), nn.Dropout(0.2), nn.Dense(4 * 7 * 7, 1), nn.BatchNorm1D(1))
    mg.Function.__call__ = spy
    try:
        z = mg.randn(3, 8)
        D(G(z)).mean().backward()
        for model in (G, D):
            model.eval()
        D(G(z))
    finally:
        mg.Function.__call__ = original
    assert seen and all(dtype == np.float32 for _, dtype in seen), [s for s in seen if s[1] != np.float32]
    assert all(p.grad.dtype == np.float32 for p in G.parameters() + D.parameters())
    assert all(b.dtype == np.float32 for b in G.buffers() + D.buffers())


# --- bad input ------------------------------------------------------------------------------------------------------

BAD_INPUTS = [
    (nn.Dense(784, 256), (2, 780), "Dense(784->256): input has 780 features, expected 784"),
    (nn.Dense(3, 2), (), "Dense(3->2): input must be at least 1-D"),
    (nn.Conv2D(3, 16, 3), (2, 1, 8, 8), "Conv2D(3->16, 3x3): input has 1 channel, expected 3"),
    (nn.Conv2D(3, 16, 3), (3, 8, 8), "Conv2D(3->16, 3x3): input must be 4-D (N, C, H, W), got shape (3, 8, 8)"),
    (nn.Conv2D(1, 4, 5, padding=1), (2, 1, 2, 2),
     "Conv2D(1->4, 5x5, padding=1): conv2d: kernel 5x5 is larger than the padded input 4x4"),
    (nn.ConvTranspose2D(8, 4, 3, 2, "same"), (2, 4, 7, 7),
     "ConvTranspose2D(8->4, 3x3, stride=2, padding='same'): input has 4 channels, expected 8"),
    (nn.BatchNorm2D(16), (2, 8, 4, 4), "BatchNorm2D(16): input has 8 channels, expected 16"),
    (nn.BatchNorm2D(16), (2, 16), "BatchNorm2D(16): input must be 4-D (N, C, H, W), got shape (2, 16)"),
    (nn.BatchNorm1D(4), (2, 4, 3, 3), "BatchNorm1D(4): input must be (N, C) or (N, C, L)"),
    (nn.Reshape(128, 7, 7), (2, 780), "Reshape(128, 7, 7): each sample has 780 values (input shape (2, 780))"),
    (nn.Flatten(), (), "Flatten(): input must have a batch dimension"),
]


@pytest.mark.parametrize("layer, shape, message", BAD_INPUTS, ids=[m.split(":")[0] for _, _, m in BAD_INPUTS])
def test_a_wrong_input_shape_is_named_before_anything_is_computed(layer, shape, message):
    state = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError) as error:
        layer(mg.zeros(*shape))
    assert message in str(error.value)
    assert all(np.array_equal(state[k], v.numpy()) for k, v in layer.state_dict().items())


def test_a_wrong_input_dtype_is_named():
    with pytest.raises(TypeError, match=r"Dense\(3->2\): input is float64 but the layer's parameters are float32"):
        nn.Dense(3, 2)(mg.tensor(np.ones((2, 3))))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2D(1, 2, 3, stride=0), "Conv2D: stride must be positive, got (0, 0)"),
    (lambda: nn.Conv2D(1, 2, 0), "Conv2D: kernel_size must be a positive int or pair, got 0"),
    (lambda: nn.Conv2D(1, 2, 3, padding=-1), "Conv2D: padding must be non-negative, got (-1, -1)"),
    (lambda: nn.ConvTranspose2D(1, 2, 3, stride=2, output_padding=2),
     "ConvTranspose2D: output_padding must be non-negative and smaller than stride (2, 2), got (2, 2)"),
    (lambda: nn.Dropout(1.5), "Dropout: p must be in [0, 1], got 1.5"),
    (lambda: nn.Reshape(-1, -1), "Reshape: shape must be positive sizes with at most one -1"),
])
def test_bad_layer_settings_are_refused_at_construction(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value)


def test_batch_norm_training_gradients_pass_gradcheck_to_second_order():
    """The fused kernels give the first gradients; under create_graph the Tensor-op formula gives gradients
    that have gradients (a penalty on a BatchNorm network's input gradient)."""
    from minigrad.ops.normalization import batch_norm
    rs = np.random.default_rng(3)
    x = mg.tensor(rs.standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = mg.tensor(rs.uniform(0.5, 2, 2), requires_grad=True)
    b = mg.tensor(rs.uniform(-1, 1, 2), requires_grad=True)
    r = mg.tensor(rs.standard_normal((3, 2, 2, 2)))
    assert mg.gradcheck(lambda x, w, b: (batch_norm(x, w, b) * r).sum(), [x, w, b])
    assert mg.gradgradcheck(lambda x, w, b: (batch_norm(x, w, b) * r).sum(), [x, w, b])

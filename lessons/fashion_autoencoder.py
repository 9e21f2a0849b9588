"""A first autoencoder in Keras style: Fashion-MNIST through a 64-number code, Adam, MSE.

Rebuilds the model of TensorFlow's tutorial "Intro to Autoencoders"
(tensorflow.org/tutorials/generative/autoencoder), first example:

    encoder = Flatten -> Dense(64, relu)
    decoder = Dense(784, sigmoid) -> Reshape(28, 28)
    compile(optimizer='adam', loss=MeanSquaredError()); fit(x_train, x_train,
    epochs=10, shuffle=True, validation_data=(x_test, x_test))

so Keras' defaults too: Glorot-uniform weights, zero biases, Adam(lr 1e-3,
eps 1e-7), batch 32. The tutorial's validation loss after epoch 10 is
0.0088. A 784-number image squeezed through 64 numbers comes back blurred
but recognisable: the figure shows ten test images and their
reconstructions, as the tutorial does.
"""
import numpy as np

import minigrad as mg
import minigrad.functional as F
from lessons._models import keras_init_
from lessons.common import Lesson
from minigrad import nn, optim, viz
from minigrad.data import DataLoader, fashion_mnist

PUBLISHED_VAL_LOSS = 0.0088
LATENT_DIM = 64


def main(argv=None):
    run = Lesson("fashion_autoencoder", __doc__, epochs=10, batch_size=32, lr=1e-3, argv=argv)
    x_train, _ = fashion_mnist("train", root=run.args.data_dir)
    x_test, _ = fashion_mnist("test", root=run.args.data_dir)
    x_train, x_test = run.subset(x_train.astype(np.float32) / 255, x_test.astype(np.float32) / 255)
    loader = DataLoader(x_train, batch_size=run.args.batch_size, shuffle=True, seed=run.args.seed,
                        device=run.device)
    x_val = mg.tensor(x_test, device=run.device)

    encoder = nn.Sequential(nn.Flatten(), nn.Dense(784, LATENT_DIM), nn.ReLU())
    decoder = nn.Sequential(nn.Dense(LATENT_DIM, 784), nn.Sigmoid(), nn.Reshape(28, 28))
    autoencoder = keras_init_(nn.Sequential(encoder, decoder))
    optimizer = optim.Adam(autoencoder.parameters(), lr=run.args.lr, eps=1e-7)

    for epoch in run.epochs(model=autoencoder, optimizer=optimizer, loader=loader):
        losses = []
        for (batch,) in run.progress(loader):
            x = mg.tensor(batch)
            loss = F.mse_loss(autoencoder(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with mg.no_grad():
            val_loss = F.mse_loss(autoencoder(x_val), x_val).item()
        run.log(loss=np.mean(losses), val_loss=val_loss)

    with mg.no_grad():
        reconstructions = autoencoder(x_val[:10])
    viz.image_rows({"original": x_test[:10], "reconstructed": reconstructions}, run.figure("reconstructions.png"),
                   title=f"Fashion-MNIST through a {LATENT_DIM}-number code (test images)")
    run.finish(final={"val_loss": val_loss}, published={"val_loss": PUBLISHED_VAL_LOSS})


if __name__ == "__main__":
    main()

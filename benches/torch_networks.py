"""PyTorch CPU twins of genreid's VGG-style net and CRNN (Base), timed on the
same batch shapes as `crates/train/examples/network_speed.rs`.

Run by benches/torch_side_by_side.sh; prints one JSON line per model.
"""
import json
import sys
import time

import torch
from torch import nn

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
BATCH, FRAMES, BINS, STEPS = 32, 130, 128, int(sys.argv[2]) if len(sys.argv) > 2 else 10
CLASSES = 10


def block(c_in, c_out, pool):
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out, eps=1e-5, momentum=0.1), nn.ReLU()]
    if pool != (1, 1):
        layers.append(nn.MaxPool2d(pool))
    return layers


class Vgg(nn.Module):
    def __init__(self):
        super().__init__()
        layers, c = [], 1
        for w in [32, 64, 128, 256]:
            layers += block(c, w, (1, 1)) + block(w, w, (1, 1)) + [nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, CLASSES))

    def forward(self, x):
        x = self.features(x.unsqueeze(1))
        return self.head(x.mean(dim=(2, 3)))


class Crnn(nn.Module):
    def __init__(self):
        super().__init__()
        plan = [(64, (2, 2)), (128, (2, 4)), (128, (2, 4)), (128, (2, 4))]
        layers, c = [], 1
        for w, p in plan:
            layers += block(c, w, p)
            c = w
        self.features = nn.Sequential(*layers)
        self.gru = nn.GRU(128, 32, num_layers=2, batch_first=True)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = self.features(x.unsqueeze(1))  # [b, c, t, f]
        seq = x.mean(dim=3).transpose(1, 2)  # [b, t, c]
        y, _ = self.gru(seq)
        return self.out(self.drop(y[:, -1]))


def measure(name, net):
    x = torch.rand(BATCH, FRAMES, BINS)
    y = torch.arange(BATCH) % CLASSES
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    net.train()
    step()
    t0 = time.perf_counter()
    for _ in range(STEPS):
        step()
    train = STEPS * BATCH / (time.perf_counter() - t0)
    net.eval()
    with torch.no_grad():
        net(x)
        t0 = time.perf_counter()
        for _ in range(STEPS):
            net(x)
        infer = STEPS * BATCH / (time.perf_counter() - t0)
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "model": name, "parameters": params,
                      "batch": BATCH, "shape": [FRAMES, BINS], "train_samples_per_s": round(train, 1),
                      "infer_samples_per_s": round(infer, 1)}))


torch.manual_seed(0)
measure("vgg", Vgg())
measure("crnn", Crnn())

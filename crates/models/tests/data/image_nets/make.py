"""Makes the small torchvision weight files genreid's import tests read.

    .venv-torch/bin/python crates/models/tests/data/image_nets/make.py

Needs torch, torchvision and safetensors (benches/torch_side_by_side.sh makes
`.venv-torch`; add `pip install torchvision safetensors`). Writes, beside this
script:

- `NAME.pth` (and `NAME.safetensors` for two of them): the `state_dict` of a
  narrow, shallow network built from torchvision's own classes (ResNet with
  basic and bottleneck blocks, MobileNetV2, EfficientNetV2 with Fused-MBConv
  and MBConv stages, VGG with and without batch norm), every batch-norm
  statistic randomised so a swapped or skipped one shows;
- `expected.safetensors`: a batch of input images and each network's logits
  in eval mode, plus a spectrogram batch and its image as genreid makes it
  (bilinear resize with align_corners=False, three channels, ImageNet
  normalisation);
- `torchvision_keys.json`: the full-size networks' `state_dict` keys and
  shapes (resnet18, resnet50, mobilenet_v2, efficientnet_v2_s, vgg16,
  vgg16_bn), so the naming is checked against torchvision without shipping
  their weights.
"""
import json
import os
from functools import partial

import torch
import torch.nn.functional as F
import torchvision
from safetensors.torch import save_file
from torch import nn
from torchvision.models import efficientnet, mobilenetv2, resnet, vgg

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


class SlimResNet(resnet.ResNet):
    """torchvision's ResNet with a first-stage width of `width` (64 there)."""

    def __init__(self, block, layers, width, num_classes):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = width, 1, 1, 64
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)


def slim_vgg(layers, batch_norm, hidden, classes):
    net = vgg.VGG(vgg.make_layers(layers, batch_norm=batch_norm), num_classes=classes)
    c = [x for x in layers if x != "M"][-1]
    net.classifier = nn.Sequential(
        nn.Linear(c * 49, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, classes),
    )
    return net


CLASSES = 10
nets = {
    "resnet_basic": SlimResNet(resnet.BasicBlock, [2, 1, 1, 1], 8, CLASSES),
    "resnet_bottleneck": SlimResNet(resnet.Bottleneck, [1, 2, 1, 1], 4, CLASSES),
    "mobilenet_v2": mobilenetv2.MobileNetV2(
        num_classes=CLASSES, width_mult=0.5,
        inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]]),
    "efficientnet_v2": efficientnet.EfficientNet(
        [efficientnet.FusedMBConvConfig(1, 3, 1, 8, 8, 2),
         efficientnet.FusedMBConvConfig(4, 3, 2, 8, 16, 1),
         efficientnet.MBConvConfig(4, 3, 2, 16, 24, 2)],
        dropout=0.2, last_channel=64, num_classes=CLASSES,
        norm_layer=partial(nn.BatchNorm2d, eps=1e-3)),
    "vgg": slim_vgg([8, "M", 16, "M"], False, 32, CLASSES),
    "vgg_bn": slim_vgg([8, "M", 16, "M"], True, 32, CLASSES),
}

images = torch.randn(2, 3, 64, 64)
expected = {"images": images}
for name, net in nets.items():
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    net.eval()
    with torch.no_grad():
        expected[name] = net(images)
    state = net.state_dict()
    torch.save(state, os.path.join(HERE, f"{name}.pth"))
    if name in ("resnet_basic", "efficientnet_v2"):
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(HERE, f"{name}.safetensors"))

# A spectrogram batch [batch, frames, bins] in 0..1 and genreid's image of it.
spec = torch.rand(2, 20, 16)
img = spec.transpose(1, 2).flip(1).unsqueeze(1)
img = F.interpolate(img, size=(32, 32), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
expected["spectrogram"] = spec
expected["spectrogram_image"] = (img - mean) / std
save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(HERE, "expected.safetensors"),
          metadata={"torch": torch.__version__, "torchvision": torchvision.__version__})

keys = {}
for name, build in [("resnet18", torchvision.models.resnet18), ("resnet50", torchvision.models.resnet50),
                    ("mobilenet-v2", torchvision.models.mobilenet_v2),
                    ("efficientnet-v2-s", torchvision.models.efficientnet_v2_s),
                    ("vgg16", torchvision.models.vgg16), ("vgg16-bn", torchvision.models.vgg16_bn)]:
    state = build(weights=None).state_dict()
    keys[name] = [[k, list(v.shape)] for k, v in state.items() if not k.endswith("num_batches_tracked")]
with open(os.path.join(HERE, "torchvision_keys.json"), "w") as f:
    json.dump({"torchvision": torchvision.__version__, "networks": keys}, f, indent=0)
print("wrote", sorted(os.listdir(HERE)))

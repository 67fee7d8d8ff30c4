"""Every component, registered by id. Importing this never imports torch."""
from backend.engine import Registry

from .backbones.efficientnet_lite0 import EfficientNetLite0
from .backbones.vgg16 import VGG16
from .data.cats_vs_dogs import CatsVsDogs
from .data.image_folder import ImageFolder
from .data.image_format import ImageFormat
from .layers.dense import Dense
from .layers.dropout import Dropout
from .layers.flatten import Flatten
from .layers.input import Input
from .optimizers.adam import Adam
from .optimizers.rmsprop import RMSprop
from .optimizers.sgd import SGD
from .training.evaluate import Evaluate
from .training.finetune import FineTune
from .training.trainer import Trainer

CATEGORIES = {
    "layers": {"en": "Layers", "zh": "网络层"},
    "backbones": {"en": "Pretrained models", "zh": "预训练模型"},
    "data": {"en": "Data", "zh": "数据"},
    "optimizers": {"en": "Optimizers", "zh": "优化器"},
    "training": {"en": "Training", "zh": "训练"},
}

registry = Registry()
for _cls in (Input, VGG16, EfficientNetLite0, Flatten, Dense, Dropout, CatsVsDogs, ImageFolder, ImageFormat,
             RMSprop, Adam, SGD, Trainer, FineTune, Evaluate):
    registry.register(_cls)

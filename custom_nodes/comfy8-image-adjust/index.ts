/**
 * comfy8-image-adjust: colour and detail adjustments for IMAGE tensors, declared the ComfyUI way,
 * plus a frontend extension (web/image-adjust.js) that adds "Reset adjustments" to the nodes'
 * context menu.
 */
import type { ExecutionContext, Image, InputTypes, NodeClassMappings } from 'comfy8/node-api';
import { adjustImage, autoLevels, sharpenImage, type Adjustments } from './adjust.js';

const CATEGORY = 'image/adjust';

export class C8ImageAdjust {
  static INPUT_TYPES(): InputTypes {
    const slider = (def: number, min: number, max: number, tooltip: string) => ['FLOAT', { default: def, min, max, step: 0.01, display: 'slider', tooltip }] as const;
    return {
      required: {
        image: ['IMAGE'],
        brightness: slider(0, -1, 1, 'Added to every colour channel (0 = unchanged).'),
        contrast: slider(1, 0, 3, 'Scales the distance from mid-grey (1 = unchanged).'),
        saturation: slider(1, 0, 3, 'Scales the distance from grey (0 = greyscale, 1 = unchanged).'),
        gamma: slider(1, 0.1, 5, 'v ** (1 / gamma): above 1 lifts the shadows (1 = unchanged).'),
      },
    };
  }
  static RETURN_TYPES = ['IMAGE'];
  static FUNCTION = 'adjust';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = 'Brightness, contrast, saturation and gamma in one pass; the result is clamped to 0..1.';
  static OUTPUT_TOOLTIPS = ['The adjusted images.'];

  adjust({ image, ...adjustments }: { image: Image } & Adjustments): [Image] {
    return [adjustImage(image, adjustments)];
  }
}

export class C8ImageSharpen {
  static INPUT_TYPES(): InputTypes {
    return {
      required: {
        image: ['IMAGE'],
        radius: ['INT', { default: 1, min: 1, max: 31, step: 1, tooltip: 'Blur radius in pixels.' }],
        sigma: ['FLOAT', { default: 1, min: 0.1, max: 10, step: 0.01 }],
        amount: ['FLOAT', { default: 1, min: 0, max: 5, step: 0.01, tooltip: 'How much of the detail (image − blur) to add back.' }],
      },
    };
  }
  static RETURN_TYPES = ['IMAGE'];
  static FUNCTION = 'sharpen';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = 'Unsharp mask: image + amount × (image − Gaussian blur), reflect-padded at the borders.';

  async sharpen({ image, radius, sigma, amount }: { image: Image; radius: number; sigma: number; amount: number }, ctx: ExecutionContext): Promise<[Image]> {
    if (amount === 0) return [image];
    ctx.checkInterrupt();
    return [sharpenImage(image, radius, sigma, amount)];
  }
}

export class C8AutoLevels {
  static INPUT_TYPES(): InputTypes {
    return { required: { image: ['IMAGE'] } };
  }
  static RETURN_TYPES = ['IMAGE'];
  static FUNCTION = 'stretch';
  static CATEGORY = CATEGORY;
  static DESCRIPTION = 'Stretches each colour channel of each image to the full 0..1 range.';

  stretch({ image }: { image: Image }): [Image] {
    return [autoLevels(image)];
  }
}

export const NODE_CLASS_MAPPINGS: NodeClassMappings = { C8ImageAdjust, C8ImageSharpen, C8AutoLevels };
export const NODE_DISPLAY_NAME_MAPPINGS = {
  C8ImageAdjust: 'Image Adjust (brightness/contrast/saturation/gamma)',
  C8ImageSharpen: 'Image Sharpen (unsharp mask)',
  C8AutoLevels: 'Image Auto Levels',
};
export const WEB_DIRECTORY = './web';

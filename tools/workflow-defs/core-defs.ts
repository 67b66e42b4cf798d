/**
 * Node definitions as ComfyUI declares them (nodes.py and comfy_extras/*; V3 nodes as their
 * `define_schema`), written compactly: `name:TYPE` in declaration order, `?` before an optional
 * input, flags after `+`: `ctl` control_after_generate, `upload` image_upload, `dyn` multiline
 * dynamicPrompts text, `force` forceInput; `=VALUE` after the type sets a string default. Combo option lists are filled from the fixtures (the real
 * lists depend on installed models). Used by build-workflow-defs.ts.
 */

export interface CoreDef {
  inputs: string;
  outputs: string;
  display?: string;
  category: string;
  module?: string;
  outputNode?: boolean;
  outputNames?: string;
}

const c = (inputs: string, outputs: string, category: string, extra: Partial<CoreDef> = {}): CoreDef => ({ inputs, outputs, category, ...extra });

export const CORE_DEFS: Record<string, CoreDef> = {
  KSampler: c('model:MODEL seed:INT+ctl steps:INT cfg:FLOAT sampler_name:COMBO scheduler:COMBO positive:CONDITIONING negative:CONDITIONING latent_image:LATENT denoise:FLOAT', 'LATENT', 'sampling'),
  KSamplerAdvanced: c('model:MODEL add_noise:COMBO noise_seed:INT+ctl steps:INT cfg:FLOAT sampler_name:COMBO scheduler:COMBO positive:CONDITIONING negative:CONDITIONING latent_image:LATENT start_at_step:INT end_at_step:INT return_with_leftover_noise:COMBO', 'LATENT', 'sampling', { display: 'KSampler (Advanced)' }),
  CheckpointLoaderSimple: c('ckpt_name:COMBO', 'MODEL CLIP VAE', 'loaders', { display: 'Load Checkpoint' }),
  CLIPTextEncode: c('text:STRING+dyn clip:CLIP', 'CONDITIONING', 'conditioning', { display: 'CLIP Text Encode (Prompt)' }),
  CLIPSetLastLayer: c('clip:CLIP stop_at_clip_layer:INT', 'CLIP', 'conditioning'),
  VAEDecode: c('samples:LATENT vae:VAE', 'IMAGE', 'latent', { display: 'VAE Decode' }),
  VAEEncode: c('pixels:IMAGE vae:VAE', 'LATENT', 'latent', { display: 'VAE Encode' }),
  VAEEncodeForInpaint: c('pixels:IMAGE vae:VAE mask:MASK grow_mask_by:INT', 'LATENT', 'latent/inpaint', { display: 'VAE Encode (for Inpainting)' }),
  VAELoader: c('vae_name:COMBO', 'VAE', 'loaders', { display: 'Load VAE' }),
  EmptyLatentImage: c('width:INT height:INT batch_size:INT', 'LATENT', 'latent', { display: 'Empty Latent Image' }),
  LatentUpscale: c('samples:LATENT upscale_method:COMBO width:INT height:INT crop:COMBO', 'LATENT', 'latent', { display: 'Upscale Latent' }),
  LatentUpscaleBy: c('samples:LATENT upscale_method:COMBO scale_by:FLOAT', 'LATENT', 'latent', { display: 'Upscale Latent By' }),
  LatentComposite: c('samples_to:LATENT samples_from:LATENT x:INT y:INT feather:INT', 'LATENT', 'latent'),
  SaveImage: c('images:IMAGE filename_prefix:STRING=ComfyUI', '', 'image', { display: 'Save Image', outputNode: true }),
  PreviewImage: c('images:IMAGE', '', 'image', { display: 'Preview Image', outputNode: true }),
  LoadImage: c('image:COMBO+upload', 'IMAGE MASK', 'image', { display: 'Load Image' }),
  LoraLoader: c('model:MODEL clip:CLIP lora_name:COMBO strength_model:FLOAT strength_clip:FLOAT', 'MODEL CLIP', 'loaders', { display: 'Load LoRA' }),
  LoraLoaderModelOnly: c('model:MODEL lora_name:COMBO strength_model:FLOAT', 'MODEL', 'loaders', { display: 'LoraLoaderModelOnly' }),
  CLIPLoader: c('clip_name:COMBO type:COMBO ?device:COMBO', 'CLIP', 'advanced/loaders', { display: 'Load CLIP' }),
  DualCLIPLoader: c('clip_name1:COMBO clip_name2:COMBO type:COMBO ?device:COMBO', 'CLIP', 'advanced/loaders'),
  TripleCLIPLoader: c('clip_name1:COMBO clip_name2:COMBO clip_name3:COMBO', 'CLIP', 'advanced/loaders', { module: 'comfy_extras.nodes_sd3' }),
  QuadrupleCLIPLoader: c('clip_name1:COMBO clip_name2:COMBO clip_name3:COMBO clip_name4:COMBO', 'CLIP', 'advanced/loaders', { module: 'comfy_extras.nodes_hidream' }),
  UNETLoader: c('unet_name:COMBO weight_dtype:COMBO', 'MODEL', 'advanced/loaders', { display: 'Load Diffusion Model' }),
  ControlNetLoader: c('control_net_name:COMBO', 'CONTROL_NET', 'loaders', { display: 'Load ControlNet Model' }),
  DiffControlNetLoader: c('model:MODEL control_net_name:COMBO', 'CONTROL_NET', 'loaders', { display: 'Load ControlNet Model (diff)' }),
  ControlNetApply: c('conditioning:CONDITIONING control_net:CONTROL_NET image:IMAGE strength:FLOAT', 'CONDITIONING', 'conditioning/controlnet', { display: 'Apply ControlNet (OLD)' }),
  ControlNetApplyAdvanced: c('positive:CONDITIONING negative:CONDITIONING control_net:CONTROL_NET image:IMAGE strength:FLOAT start_percent:FLOAT end_percent:FLOAT ?vae:VAE', 'CONDITIONING CONDITIONING', 'conditioning/controlnet', { display: 'Apply ControlNet', outputNames: 'positive negative' }),
  ConditioningCombine: c('conditioning_1:CONDITIONING conditioning_2:CONDITIONING', 'CONDITIONING', 'conditioning', { display: 'Conditioning (Combine)' }),
  ConditioningSetArea: c('conditioning:CONDITIONING width:INT height:INT x:INT y:INT strength:FLOAT', 'CONDITIONING', 'conditioning', { display: 'Conditioning (Set Area)' }),
  ConditioningZeroOut: c('conditioning:CONDITIONING', 'CONDITIONING', 'advanced/conditioning'),
  CLIPVisionLoader: c('clip_name:COMBO', 'CLIP_VISION', 'loaders', { display: 'Load CLIP Vision' }),
  CLIPVisionEncode: c('clip_vision:CLIP_VISION image:IMAGE crop:COMBO', 'CLIP_VISION_OUTPUT', 'conditioning', { display: 'CLIP Vision Encode' }),
  StyleModelLoader: c('style_model_name:COMBO', 'STYLE_MODEL', 'loaders', { display: 'Load Style Model' }),
  StyleModelApply: c('conditioning:CONDITIONING style_model:STYLE_MODEL clip_vision_output:CLIP_VISION_OUTPUT strength:FLOAT strength_type:COMBO', 'CONDITIONING', 'conditioning/style_model', { display: 'Apply Style Model' }),
  unCLIPConditioning: c('conditioning:CONDITIONING clip_vision_output:CLIP_VISION_OUTPUT strength:FLOAT noise_augmentation:FLOAT', 'CONDITIONING', 'conditioning'),
  unCLIPCheckpointLoader: c('ckpt_name:COMBO', 'MODEL CLIP VAE CLIP_VISION', 'loaders'),
  GLIGENLoader: c('gligen_name:COMBO', 'GLIGEN', 'loaders'),
  GLIGENTextBoxApply: c('conditioning_to:CONDITIONING clip:CLIP gligen_textbox_model:GLIGEN text:STRING+dyn width:INT height:INT x:INT y:INT', 'CONDITIONING', 'conditioning/gligen'),
  ImageScale: c('image:IMAGE upscale_method:COMBO width:INT height:INT crop:COMBO', 'IMAGE', 'image/upscaling', { display: 'Upscale Image' }),
  ImageInvert: c('image:IMAGE', 'IMAGE', 'image', { display: 'Invert Image' }),
  ImagePadForOutpaint: c('image:IMAGE left:INT top:INT right:INT bottom:INT feathering:INT', 'IMAGE MASK', 'image', { display: 'Pad Image for Outpainting' }),
  RepeatLatentBatch: c('samples:LATENT amount:INT', 'LATENT', 'latent/batch', { display: 'Repeat Latent Batch' }),
  EmptyImage: c('width:INT height:INT batch_size:INT color:INT', 'IMAGE', 'image'),
  HypernetworkLoader: c('model:MODEL hypernetwork_name:COMBO strength:FLOAT', 'MODEL', 'loaders', { module: 'comfy_extras.nodes_hypernetwork' }),
  ImageOnlyCheckpointLoader: c('ckpt_name:COMBO', 'MODEL CLIP_VISION VAE', 'loaders/video_models', { display: 'Image Only Checkpoint Loader (img2vid model)', module: 'comfy_extras.nodes_video_model' }),
  UpscaleModelLoader: c('model_name:COMBO', 'UPSCALE_MODEL', 'loaders', { display: 'Load Upscale Model', module: 'comfy_extras.nodes_upscale_model' }),
  ImageUpscaleWithModel: c('upscale_model:UPSCALE_MODEL image:IMAGE', 'IMAGE', 'image/upscaling', { display: 'Upscale Image (using Model)', module: 'comfy_extras.nodes_upscale_model' }),
  CheckpointSave: c('model:MODEL clip:CLIP vae:VAE filename_prefix:STRING', '', 'advanced/model_merging', { display: 'Save Checkpoint', outputNode: true, module: 'comfy_extras.nodes_model_merging' }),
  ModelMergeSimple: c('model1:MODEL model2:MODEL ratio:FLOAT', 'MODEL', 'advanced/model_merging', { module: 'comfy_extras.nodes_model_merging' }),
  ModelMergeAdd: c('model1:MODEL model2:MODEL', 'MODEL', 'advanced/model_merging', { module: 'comfy_extras.nodes_model_merging' }),
  ModelMergeSubtract: c('model1:MODEL model2:MODEL multiplier:FLOAT', 'MODEL', 'advanced/model_merging', { module: 'comfy_extras.nodes_model_merging' }),
  ModelMergeBlocks: c('model1:MODEL model2:MODEL input:FLOAT middle:FLOAT out:FLOAT', 'MODEL', 'advanced/model_merging', { module: 'comfy_extras.nodes_model_merging' }),
  EmptySD3LatentImage: c('width:INT height:INT batch_size:INT', 'LATENT', 'latent/sd3', { module: 'comfy_extras.nodes_sd3' }),
  ModelSamplingDiscrete: c('model:MODEL sampling:COMBO zsnr:BOOLEAN', 'MODEL', 'advanced/model', { module: 'comfy_extras.nodes_model_advanced' }),
  ModelSamplingSD3: c('model:MODEL shift:FLOAT', 'MODEL', 'advanced/model', { module: 'comfy_extras.nodes_model_advanced' }),
  ModelSamplingAuraFlow: c('model:MODEL shift:FLOAT', 'MODEL', 'advanced/model', { module: 'comfy_extras.nodes_model_advanced' }),
  ModelSamplingFlux: c('model:MODEL max_shift:FLOAT base_shift:FLOAT width:INT height:INT', 'MODEL', 'advanced/model', { module: 'comfy_extras.nodes_model_advanced' }),
  FluxGuidance: c('conditioning:CONDITIONING guidance:FLOAT', 'CONDITIONING', 'advanced/conditioning/flux', { module: 'comfy_extras.nodes_flux' }),
  FluxKontextImageScale: c('image:IMAGE', 'IMAGE', 'advanced/conditioning/flux', { module: 'comfy_extras.nodes_flux' }),
  ReferenceLatent: c('conditioning:CONDITIONING ?latent:LATENT', 'CONDITIONING', 'advanced/conditioning/edit_models', { module: 'comfy_extras.nodes_edit_model' }),
  BasicScheduler: c('model:MODEL scheduler:COMBO steps:INT denoise:FLOAT', 'SIGMAS', 'sampling/custom_sampling/schedulers', { module: 'comfy_extras.nodes_custom_sampler' }),
  SDTurboScheduler: c('model:MODEL steps:INT denoise:FLOAT', 'SIGMAS', 'sampling/custom_sampling/schedulers', { module: 'comfy_extras.nodes_custom_sampler' }),
  KSamplerSelect: c('sampler_name:COMBO', 'SAMPLER', 'sampling/custom_sampling/samplers', { module: 'comfy_extras.nodes_custom_sampler' }),
  RandomNoise: c('noise_seed:INT+ctl', 'NOISE', 'sampling/custom_sampling/noise', { module: 'comfy_extras.nodes_custom_sampler' }),
  DisableNoise: c('', 'NOISE', 'sampling/custom_sampling/noise', { module: 'comfy_extras.nodes_custom_sampler' }),
  BasicGuider: c('model:MODEL conditioning:CONDITIONING', 'GUIDER', 'sampling/custom_sampling/guiders', { module: 'comfy_extras.nodes_custom_sampler' }),
  CFGGuider: c('model:MODEL positive:CONDITIONING negative:CONDITIONING cfg:FLOAT', 'GUIDER', 'sampling/custom_sampling/guiders', { module: 'comfy_extras.nodes_custom_sampler' }),
  DualCFGGuider: c('model:MODEL cond1:CONDITIONING cond2:CONDITIONING negative:CONDITIONING cfg_conds:FLOAT cfg_cond2_negative:FLOAT style:COMBO', 'GUIDER', 'sampling/custom_sampling/guiders', { module: 'comfy_extras.nodes_custom_sampler' }),
  SamplerCustom: c('model:MODEL add_noise:BOOLEAN noise_seed:INT+ctl cfg:FLOAT positive:CONDITIONING negative:CONDITIONING sampler:SAMPLER sigmas:SIGMAS latent_image:LATENT', 'LATENT LATENT', 'sampling/custom_sampling', { module: 'comfy_extras.nodes_custom_sampler', outputNames: 'output denoised_output' }),
  SamplerCustomAdvanced: c('noise:NOISE guider:GUIDER sampler:SAMPLER sigmas:SIGMAS latent_image:LATENT', 'LATENT LATENT', 'sampling/custom_sampling', { module: 'comfy_extras.nodes_custom_sampler', outputNames: 'output denoised_output' }),
  InstructPixToPixConditioning: c('positive:CONDITIONING negative:CONDITIONING vae:VAE pixels:IMAGE', 'CONDITIONING CONDITIONING LATENT', 'conditioning/instructpix2pix', { module: 'comfy_extras.nodes_ip2p', outputNames: 'positive negative latent' }),
  StableZero123_Conditioning: c('clip_vision:CLIP_VISION init_image:IMAGE vae:VAE width:INT height:INT batch_size:INT elevation:FLOAT azimuth:FLOAT', 'CONDITIONING CONDITIONING LATENT', 'conditioning/3d_models', { module: 'comfy_extras.nodes_stable3d', outputNames: 'positive negative latent' }),
  PreviewAny: c('source:*', '', 'utils', { display: 'Preview Any', outputNode: true, module: 'comfy_extras.nodes_preview_any' }),
  PrimitiveInt: c('value:INT+ctl', 'INT', 'utils/primitive', { display: 'Int', module: 'comfy_extras.nodes_primitive' }),
  PrimitiveString: c('value:STRING', 'STRING', 'utils/primitive', { display: 'String', module: 'comfy_extras.nodes_primitive' }),
  ImageStitch: c('image1:IMAGE direction:COMBO match_image_size:BOOLEAN spacing_width:INT spacing_color:COMBO ?image2:IMAGE', 'IMAGE', 'image/transform', { display: 'Image Stitch', module: 'comfy_extras.nodes_images' }),
  ThresholdMask: c('mask:MASK value:FLOAT', 'MASK', 'mask', { module: 'comfy_extras.nodes_mask' }),
  InvertMask: c('mask:MASK', 'MASK', 'mask', { module: 'comfy_extras.nodes_mask' }),
  GrowMask: c('mask:MASK expand:INT tapered_corners:BOOLEAN', 'MASK', 'mask', { module: 'comfy_extras.nodes_mask' }),
  ImageCompositeMasked: c('destination:IMAGE source:IMAGE x:INT y:INT resize_source:BOOLEAN ?mask:MASK', 'IMAGE', 'image', { module: 'comfy_extras.nodes_mask' }),
  JoinImageWithAlpha: c('image:IMAGE alpha:MASK', 'IMAGE', 'mask/compositing', { display: 'Join Image with Alpha', module: 'comfy_extras.nodes_compositing' }),
  Canny: c('image:IMAGE low_threshold:FLOAT high_threshold:FLOAT', 'IMAGE', 'image/preprocessors', { module: 'comfy_extras.nodes_canny' }),
  StableCascade_EmptyLatentImage: c('width:INT height:INT compression:INT batch_size:INT', 'LATENT LATENT', 'latent/stable_cascade', { module: 'comfy_extras.nodes_stable_cascade', outputNames: 'stage_c stage_b' }),
  StableCascade_StageB_Conditioning: c('conditioning:CONDITIONING stage_c:LATENT', 'CONDITIONING', 'conditioning/stable_cascade', { module: 'comfy_extras.nodes_stable_cascade' }),
  StableCascade_StageC_VAEEncode: c('image:IMAGE vae:VAE compression:INT', 'LATENT LATENT', 'latent/stable_cascade', { module: 'comfy_extras.nodes_stable_cascade', outputNames: 'stage_c stage_b' }),
};

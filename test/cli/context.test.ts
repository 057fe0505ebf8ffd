import os from 'node:os';
import { defaultAwsClientFactory, osUserName } from '../../cli/context';

describe('defaultAwsClientFactory', () => {
  test('--region overrides the region; one client per region, reused', async () => {
    const factory = defaultAwsClientFactory();

    const dublin = factory.stepFunctions('eu-west-1');
    const virginia = factory.stepFunctions('us-east-1');

    await expect(dublin.config.region()).resolves.toBe('eu-west-1');
    await expect(virginia.config.region()).resolves.toBe('us-east-1');
    expect(factory.stepFunctions('eu-west-1')).toBe(dublin);
  });

  test('without --region the default chain decides (AWS_REGION here)', async () => {
    const saved = process.env.AWS_REGION;
    process.env.AWS_REGION = 'ap-southeast-2';
    try {
      await expect(defaultAwsClientFactory().stepFunctions(undefined).config.region()).resolves.toBe('ap-southeast-2');
    } finally {
      if (saved === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = saved;
    }
  });
});

describe('osUserName', () => {
  const savedUser = process.env.USER;
  afterEach(() => {
    jest.restoreAllMocks();
    if (savedUser === undefined) delete process.env.USER;
    else process.env.USER = savedUser;
  });

  test('is the OS login name', () => {
    jest.spyOn(os, 'userInfo').mockReturnValue({ username: 'grace', uid: 1000, gid: 1000, shell: '/bin/bash', homedir: '/home/grace' });
    expect(osUserName()).toBe('grace');
  });

  test('falls back to $USER where the OS has no entry for the user (containers)', () => {
    jest.spyOn(os, 'userInfo').mockImplementation(() => {
      throw new Error('ENOENT: no such file or directory, uv_os_get_passwd');
    });
    process.env.USER = 'heidi';
    expect(osUserName()).toBe('heidi');
  });
});

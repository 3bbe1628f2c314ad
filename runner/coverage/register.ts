// `node --import tsx --import ./runner/coverage/register.ts ...`: branch coverage of the model for the whole process.
import { enableModelCoverage } from './enable.ts';

enableModelCoverage();

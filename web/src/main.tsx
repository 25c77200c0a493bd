import { render } from 'preact';
import { App } from './app.tsx';
import { applyTheme, readTheme } from './theme.ts';
import './styles.css';

applyTheme(readTheme());
const root = document.getElementById('app');
if (root) render(<App />, root);
